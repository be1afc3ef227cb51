"""When a video's job started and ended, for its page (issue #25, 4)."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0015_video_phase")]
    operations = [
        migrations.AddField("video", "started", models.DateTimeField(blank=True, null=True)),
        migrations.AddField("video", "finished", models.DateTimeField(blank=True, null=True)),
    ]
