"""The clip table's filter and sort, validated from the URL query (so a filtered view is a shareable link)."""
from __future__ import annotations

from django import forms
from django.db.models import QuerySet

SORTABLE = {
    "name": "name", "video": "source_name", "start": "source_start_s", "duration": "duration_s",
    "score": "quality_score", "valid": "valid_rate", "smooth": "smoothness", "range": "range_validity",
    "face": "face_rate", "lag": "av_lag_abs_ms", "corr": "av_correlation", "speech": "speech_ratio",
}


class ClipFilter(forms.Form):
    score_min = forms.FloatField(required=False, min_value=0, max_value=100, label="Score ≥")
    score_max = forms.FloatField(required=False, min_value=0, max_value=100, label="Score ≤")
    duration_min = forms.FloatField(required=False, min_value=0, label="Duration ≥ (s)")
    duration_max = forms.FloatField(required=False, min_value=0, label="Duration ≤ (s)")
    face_min = forms.FloatField(required=False, min_value=0, max_value=1, label="Face-frame rate ≥")
    lag_max = forms.FloatField(required=False, min_value=0, label="|A/V lag| ≤ (ms)")
    speech_min = forms.FloatField(required=False, min_value=0, max_value=1, label="Speech ratio ≥")
    video = forms.IntegerField(required=False, widget=forms.Select, label="Source video")
    tag = forms.CharField(required=False, max_length=60, label="Tag")
    rejected = forms.ChoiceField(required=False, choices=[("exclude", "hide rejected"), ("include", "show all"),
                                                          ("only", "only rejected")], label="Rejected")
    sort = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, videos=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["video"].widget.choices = [("", "all")] + [(v.pk, v.original_name) for v in videos]

    def clean_sort(self) -> str:
        value = self.cleaned_data.get("sort") or "name"
        return value if value.lstrip("-") in SORTABLE else "name"

    def apply(self, clips: QuerySet) -> QuerySet:
        data = self.cleaned_data if self.is_valid() else {}
        bounds = {
            "score_min": "quality_score__gte", "score_max": "quality_score__lte", "duration_min": "duration_s__gte",
            "duration_max": "duration_s__lte", "face_min": "face_rate__gte", "lag_max": "av_lag_abs_ms__lte",
            "speech_min": "speech_ratio__gte", "video": "video_id",
        }
        for key, lookup in bounds.items():
            if data.get(key) is not None:
                clips = clips.filter(**{lookup: data[key]})
        if data.get("tag"):
            clips = clips.filter(tags__name=data["tag"])
        rejected = data.get("rejected") or "exclude"
        # `rejected__in` is written as "rejected IN (0)", which SQLite can use as an index prefix;
        # `rejected=False` becomes "NOT rejected", which it cannot.
        if rejected == "exclude":
            clips = clips.filter(rejected__in=[False])
        elif rejected == "only":
            clips = clips.filter(rejected__in=[True])
        sort = data.get("sort") or "name"
        field = SORTABLE[sort.lstrip("-")]
        order = f"-{field}" if sort.startswith("-") else field
        return clips.order_by(order, "id")

    def active(self) -> dict:
        """The filter as it stands, for the manifest of a download and for display."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
