"""Schedule the hourly clean-up of unfinished uploads (like tusd's expiration)."""
from django.db import migrations


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name="expire unfinished uploads", defaults={
        "func": "catalog.uploads.expire_uploads", "schedule_type": "H", "repeats": -1})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="expire unfinished uploads").delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_watchdog_schedule")]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
