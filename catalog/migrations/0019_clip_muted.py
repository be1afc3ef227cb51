from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0018_video_shared_footage")]

    operations = [
        migrations.AddField(model_name="clip", name="muted", field=models.BooleanField(default=False)),
    ]
