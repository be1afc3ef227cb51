from django.urls import path

from reports import baseline_views, views

urlpatterns = [
    path("datasets/<int:pk>/report/", views.dataset_report, name="dataset_report"),
    path("videos/<int:pk>/report/", views.video_report, name="video_report"),
    path("datasets/<int:pk>/baselines/", baseline_views.baseline_start, name="baseline_start"),
    path("baselines/<int:pk>/model.npz", baseline_views.baseline_model, name="baseline_model"),
]
