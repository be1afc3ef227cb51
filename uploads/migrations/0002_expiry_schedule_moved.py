"""The hourly clean-up of unfinished uploads is uploads.tus.expire_uploads now (it was catalog.uploads')."""
from django.db import migrations

OLD, NEW = "catalog.uploads.expire_uploads", "uploads.tus.expire_uploads"


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=OLD).update(func=NEW)


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=NEW).update(func=OLD)


class Migration(migrations.Migration):
    dependencies = [("uploads", "0001_models_from_catalog"), ("jobs", "0002_upload_expiry_schedule")]
    operations = [migrations.RunPython(forwards, backwards)]
