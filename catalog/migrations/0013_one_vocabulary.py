"""One vocabulary (#23): the clip's lip-sync columns under pipeline.clip_record's names, the video's source name as
the clip's.  Renames only (the data stays); av_sync_weak went: it was ``lip_sync_verdict != "in_sync"``, and nothing
read it."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0012_dataset_clips_version")]

    operations = [
        migrations.RemoveIndex("clip", "clip_by_lag"),
        migrations.RenameField("clip", "av_lag_ms", "lip_sync_offset_ms"),
        migrations.RenameField("clip", "av_lag_abs_ms", "lip_sync_offset_abs_ms"),
        migrations.RenameField("clip", "av_correlation", "lip_sync_confidence"),
        migrations.RemoveField("clip", "av_sync_weak"),
        migrations.RenameField("video", "original_name", "source_name"),
        migrations.AddIndex("clip", models.Index(fields=["dataset", "rejected", "lip_sync_offset_abs_ms"],
                                                 name="clip_by_lag")),
        migrations.AlterModelOptions("video", {"ordering": ["source_name", "id"]}),
    ]
