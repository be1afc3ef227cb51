"""Schedule the watchdog that re-queues jobs whose worker died (every minute)."""
from django.db import migrations


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name="job watchdog", defaults={
        "func": "jobs.tasks.requeue_stalled", "schedule_type": "I", "minutes": 1, "repeats": -1})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="job watchdog").delete()


class Migration(migrations.Migration):
    dependencies = [("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
