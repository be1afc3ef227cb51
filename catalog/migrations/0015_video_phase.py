"""A running job's phase as its own column (#23): control flow no longer reads the display text ``stage``."""
from django.db import migrations, models

FROM_STAGE = {"segmenting": "planning", "extracting clips": "cutting", "finishing": "finishing", "importing": "finishing"}


def phases_from_stages(apps, schema_editor):
    Video = apps.get_model("catalog", "Video")
    for stage, phase in FROM_STAGE.items():
        Video.objects.filter(status="running", stage=stage).update(phase=phase)
    Video.objects.filter(status="running", phase="").update(phase="planning")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0014_models_moved_to_their_apps")]
    operations = [
        migrations.AddField("video", "phase", models.CharField(
            blank=True, choices=[("", "idle"), ("planning", "planning"), ("cutting", "cutting clips"),
                                 ("finishing", "finishing")], default="", max_length=10)),
        migrations.RunPython(phases_from_stages, migrations.RunPython.noop),
    ]
