import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name="export watchdog", defaults={
        "func": "exports.export_job.requeue_stalled_exports", "schedule_type": "I", "minutes": 1, "repeats": -1})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="export watchdog").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_models_from_catalog"),
        ("catalog", "0018_video_shared_footage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExportJob",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("layout", models.CharField(max_length=20)),
                ("options", models.JSONField(blank=True, default=dict)),
                ("query", models.TextField(blank=True)),
                ("status", models.CharField(choices=[("queued", "Queued"), ("running", "Making"), ("done", "Done"),
                                                     ("failed", "Failed")], default="queued", max_length=10)),
                ("clips", models.PositiveIntegerField(default=0)),
                ("frames_done", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("summary", models.JSONField(blank=True, default=dict)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("finished", models.DateTimeField(blank=True, null=True)),
                ("run_token", models.CharField(blank=True, max_length=32)),
                ("heartbeat", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 to=settings.AUTH_USER_MODEL)),
                ("dataset", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="export_jobs",
                                              to="catalog.dataset")),
            ],
            options={"ordering": ["-created", "-id"]},
        ),
        migrations.RunPython(add_schedule, remove_schedule),
    ]
