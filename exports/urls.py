from django.urls import path

from exports import downloads, export_views, selections, training

urlpatterns = [
    path("datasets/<int:pk>/download/", downloads.download, name="dataset_download"),
    path("datasets/<int:pk>/training.zip", training.training_download, name="training_download"),
    path("datasets/<int:pk>/selections/", selections.selection_create, name="selection_create"),
    path("datasets/<int:pk>/exports/", export_views.export_job_start, name="export_job_start"),
    path("exports/<int:pk>/", export_views.export_job_detail, name="export_job_detail"),
    path("exports/<int:pk>/export.zip", export_views.export_job_file, name="export_job_file"),
    path("selections/<uuid:key>/", selections.selection_detail, name="selection_detail"),
    path("selections/<uuid:key>/download.zip", selections.selection_download, name="selection_download"),
    path("selections/<uuid:key>/training.zip", selections.selection_training_download,
         name="selection_training_download"),
]
