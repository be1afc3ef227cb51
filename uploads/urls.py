from django.urls import path

from uploads import tus

urlpatterns = [
    path("datasets/<int:pk>/uploads/", tus.create_upload, name="create_upload"),
    path("uploads/<uuid:upload_id>/", tus.upload_resource, name="upload_resource"),
    path("uploads/<uuid:upload_id>/keep/", tus.upload_keep, name="upload_keep"),
]
