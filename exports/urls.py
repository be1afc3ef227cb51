from django.urls import path

from exports import downloads, selections, training

urlpatterns = [
    path("datasets/<int:pk>/download/", downloads.download, name="dataset_download"),
    path("datasets/<int:pk>/training.zip", training.training_download, name="training_download"),
    path("datasets/<int:pk>/selections/", selections.selection_create, name="selection_create"),
    path("selections/<uuid:key>/", selections.selection_detail, name="selection_detail"),
    path("selections/<uuid:key>/download.zip", selections.selection_download, name="selection_download"),
    path("selections/<uuid:key>/training.zip", selections.selection_training_download,
         name="selection_training_download"),
]
