from django.contrib import admin

from catalog.models import Clip, Dataset, Tag, Video


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "created"]
    list_filter = ["team"]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["source_name", "dataset", "status", "stage", "clips_done", "clips_total"]
    list_filter = ["status"]


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["name", "video", "dataset", "quality_score", "duration_s", "rejected"]
    list_filter = ["rejected", "dataset"]
    list_select_related = ["video", "dataset"]
    raw_id_fields = ["video", "dataset"]


admin.site.register(Tag)
