from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0017_dataset_lip_sync_model")]

    operations = [
        migrations.AddField(model_name="video", name="shared_footage",
                            field=models.JSONField(blank=True, default=list)),
    ]
