from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0016_video_started_finished")]

    operations = [
        migrations.AddField(model_name="dataset", name="lip_sync_model",
                            field=models.JSONField(blank=True, default=dict)),
    ]
