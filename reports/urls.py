from django.urls import path

from . import views

urlpatterns = [
    path("datasets/<int:pk>/report/", views.dataset_report, name="dataset_report"),
    path("videos/<int:pk>/report/", views.video_report, name="video_report"),
]
