"""Schedule the watchdog of baseline runs (every minute), beside the video jobs' one."""
from django.db import migrations


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name="baseline watchdog", defaults={
        "func": "reports.baseline_job.requeue_stalled_baselines", "schedule_type": "I", "minutes": 1, "repeats": -1})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="baseline watchdog").delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_baseline_run_ownership"),
                    ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
