from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """Zip downloads, frozen selections and training exports."""

    name = "exports"
