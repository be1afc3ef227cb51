from django.urls import path

from . import batch, clip_viewer, dataset_views, downloads, scoring_views, selections, team_views, tokens, training, uploads, views

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/new/", dataset_views.dataset_create, name="dataset_create"),
    path("datasets/<int:pk>/settings/", dataset_views.dataset_settings, name="dataset_settings"),
    path("datasets/<int:pk>/delete/", dataset_views.dataset_delete, name="dataset_delete"),
    path("datasets/<int:pk>/download/", downloads.download, name="dataset_download"),
    path("datasets/<int:pk>/batch/", batch.batch_update, name="batch_update"),
    path("datasets/<int:pk>/selections/", selections.selection_create, name="selection_create"),
    path("selections/<uuid:key>/", selections.selection_detail, name="selection_detail"),
    path("selections/<uuid:key>/download.zip", selections.selection_download, name="selection_download"),
    path("selections/<uuid:key>/training.zip", selections.selection_training_download,
         name="selection_training_download"),
    path("datasets/<int:pk>/videos.json", views.dataset_video_status, name="dataset_video_status"),
    path("datasets/<int:pk>/training.zip", training.training_download, name="training_download"),
    path("datasets/<int:pk>/scoring/", scoring_views.dataset_scoring, name="dataset_scoring"),
    path("clips/<int:pk>/", clip_viewer.clip_detail, name="clip_detail"),
    path("clips/<int:pk>/curves.json", clip_viewer.clip_curves, name="clip_curves"),
    path("tokens/", tokens.token_list, name="token_list"),
    path("tokens/new/", tokens.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("teams/<int:pk>/", team_views.team_detail, name="team_detail"),
    path("teams/<int:pk>/members/", team_views.team_members, name="team_members"),
    path("clips/<int:pk>/thumbnail.jpg", views.clip_thumbnail, name="clip_thumbnail"),
    path("clips/<int:pk>/update/", views.clip_update, name="clip_update"),
    path("clips/<int:pk>/files/<slug:role>/", views.clip_file, name="clip_file"),
    path("datasets/<int:pk>/uploads/", uploads.create_upload, name="create_upload"),
    path("uploads/<uuid:upload_id>/", uploads.upload_resource, name="upload_resource"),
    path("uploads/<uuid:upload_id>/keep/", uploads.upload_keep, name="upload_keep"),
]
