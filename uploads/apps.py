from django.apps import AppConfig


class UploadsConfig(AppConfig):
    """Resumable (tus) uploads and their checks."""

    name = "uploads"
