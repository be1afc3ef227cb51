"""The dashboard's pages, by page: datasets, their settings, the clip table's actions, clips, scoring, videos."""
from django.urls import path

from dashboard import batch, clips, dataset_admin, datasets, scoring, videos

urlpatterns = [
    path("", datasets.home, name="home"),
    path("datasets/<int:pk>/", datasets.dataset_detail, name="dataset_detail"),
    path("datasets/<int:pk>/videos.json", datasets.dataset_video_status, name="dataset_video_status"),
    path("datasets/new/", dataset_admin.dataset_create, name="dataset_create"),
    path("datasets/<int:pk>/settings/", dataset_admin.dataset_settings, name="dataset_settings"),
    path("datasets/<int:pk>/delete/", dataset_admin.dataset_delete, name="dataset_delete"),
    path("datasets/<int:pk>/batch/", batch.batch_update, name="batch_update"),
    path("datasets/<int:pk>/scoring/", scoring.dataset_scoring, name="dataset_scoring"),
    path("clips/<int:pk>/", clips.clip_detail, name="clip_detail"),
    path("clips/<int:pk>/curves.json", clips.clip_curves, name="clip_curves"),
    path("clips/<int:pk>/thumbnail.jpg", clips.clip_thumbnail, name="clip_thumbnail"),
    path("clips/<int:pk>/update/", clips.clip_update, name="clip_update"),
    path("clips/<int:pk>/files/<slug:role>/", clips.clip_file, name="clip_file"),
    path("videos/<int:pk>/", videos.video_detail, name="video_detail"),
    path("videos/<int:pk>/status.json", videos.video_status, name="video_status"),
    path("videos/<int:pk>/cancel/", videos.video_cancel, name="video_cancel"),
    path("videos/<int:pk>/retry/", videos.video_retry, name="video_retry"),
    path("videos/<int:pk>/reprocess/", videos.video_reprocess, name="video_reprocess"),
    path("videos/<int:pk>/delete/", videos.video_delete, name="video_delete"),
    path("videos/<int:pk>/recording/", videos.video_recording, name="video_recording"),
]
