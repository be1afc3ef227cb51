from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Interactive quality reports per dataset and per video: figures aggregated on the server, drawn by Plotly."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
