from django.urls import path

from . import views

urlpatterns = [
    path("videos/<int:pk>/", views.video_detail, name="video_detail"),
    path("videos/<int:pk>/status.json", views.video_status, name="video_status"),
    path("videos/<int:pk>/cancel/", views.video_cancel, name="video_cancel"),
    path("videos/<int:pk>/retry/", views.video_retry, name="video_retry"),
    path("videos/<int:pk>/reprocess/", views.video_reprocess, name="video_reprocess"),
    path("videos/<int:pk>/delete/", views.video_delete, name="video_delete"),
]
