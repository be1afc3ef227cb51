"""The clip table's filter and sort, validated from the URL query (so a filtered view is a shareable link).

Every metric in METRICS can be bounded with ``<key>_min`` / ``<key>_max`` (inclusive); the form shows the
common bounds and keeps the rest under "more filters", and reports link into the table with the same keys.
"""
from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from pipeline.quality.quality import METRICS as QC_METRICS

JSON_PREFIX = "quality__"


@dataclass(frozen=True)
class Metric:
    field: str  # Clip column, or quality__<name>: a value inside Clip.quality (the QC registry's metrics)
    label: str
    lo: float | None = None  # the range the value can take (form validation)
    hi: float | None = None

    @property
    def in_json(self) -> bool:
        return self.field.startswith(JSON_PREFIX)

    @property
    def alias(self) -> str:
        return "m_" + self.field.replace("__", "_")

    def expression(self):
        """The value as a float SQL expression (NULL where not measured); same on SQLite and PostgreSQL."""
        return Cast(KT(self.field), FloatField()) if self.in_json else F(self.field)

    def bulk_expression(self, vendor: str):
        """As ``expression``, for reading a column of many rows: on SQLite one JSON_EXTRACT instead of the
        JSON_TYPE + JSON_EXTRACT that a key transform writes (the registry values are numbers or null), which
        halves a 100,000-clip report's read."""
        if not self.in_json or vendor != "sqlite":
            return self.expression()
        key = self.field.removeprefix(JSON_PREFIX)
        return Func(F("quality"), Value(f'$."{key}"'), function="JSON_EXTRACT", output_field=FloatField())


METRICS: dict[str, Metric] = {
    "score": Metric("quality_score", "Score", 0, 100),
    "duration": Metric("duration_s", "Duration (s)", 0),
    "face": Metric("face_rate", "Face-frame rate", 0, 1),
    "lag": Metric("lip_sync_offset_abs_ms", "|Lip-sync offset| (ms)", 0),
    "speech": Metric("speech_ratio", "Speech ratio", 0, 1),
    "valid": Metric("valid_rate", "Valid-frame rate", 0, 1),
    "smooth": Metric("smoothness", "Smoothness (seed)", 0, 1),
    "range": Metric("range_validity", "Range validity", 0, 1),
    "corr": Metric("lip_sync_confidence", "Lip-sync confidence"),
    "avlag": Metric("lip_sync_offset_ms", "Lip-sync offset, signed (ms)"),
    "start": Metric("source_start_s", "Start in source (s)", 0),
}
# Every metric of the QC registry (a lab's own too) is a filter, a sortable column and a report histogram.
_SAME_AS_COLUMN = {"lip_sync_confidence", "lip_sync_offset_ms"}
METRICS.update({name: Metric(JSON_PREFIX + name, m.label, m.lo, m.hi)
                for name, m in QC_METRICS.items() if name not in _SAME_AS_COLUMN})
# Bounds shown in the main row of the form; the others sit under "more filters".
PRIMARY_BOUNDS = ("score_min", "score_max", "duration_min", "duration_max", "face_min", "lag_max", "speech_min")

SORTABLE = {
    "name": "name", "video": "source_name", "start": "source_start_s", "duration": "duration_s",
    "score": "quality_score", "valid": "valid_rate", "smooth": "smoothness", "range": "range_validity",
    "face": "face_rate", "lag": "lip_sync_offset_abs_ms", "corr": "lip_sync_confidence", "speech": "speech_ratio",
    "sync": "lip_sync_verdict",
    **{key: m.field for key, m in METRICS.items() if m.in_json},
}
SYNC_CHOICES = [("", "any"), ("in_sync", "in sync"), ("offset", "offset"), ("mismatch", "audio does not match"),
                ("too_short", "too short to tell"), ("no_reliable_offset", "no reliable offset")]
VERDICT_WORDS = {code: words for code, words in SYNC_CHOICES if code}  # what the table and the viewer say
# "Lip sync" sorts by verdict (in sync first, then offset, unsure, mismatched, unmeasured), then confidence.
SYNC_RANK = ("in_sync", "offset", "too_short", "no_reliable_offset", "mismatch")
SYNC_ORDER = Case(*(When(lip_sync_verdict=code, then=Value(rank)) for rank, code in enumerate(SYNC_RANK)),
                  default=Value(len(SYNC_RANK)), output_field=IntegerField())


class BoundInput(forms.NumberInput):
    """A bound as a person would type it: a report bar's link says score_max=84.99999999999999 (the largest float
    below the next bar's edge, so the bar's count is exact); the box shows 85, the URL keeps the exact bound."""

    def format_value(self, value):
        try:
            return f"{float(value):.10g}"
        except (TypeError, ValueError):
            return super().format_value(value)


def _bound_field(metric: Metric, side: str) -> forms.FloatField:
    symbol = "≥" if side == "min" else "≤"
    return forms.FloatField(required=False, min_value=metric.lo, max_value=metric.hi, widget=BoundInput(attrs={"step": "any"}),
                            label=f"{metric.label} {symbol}")


class ClipFilter(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search",
                        help_text="part of a clip or source file name")
    video = forms.IntegerField(required=False, widget=forms.Select, label="Source video", min_value=1,
                               max_value=2**63 - 1)  # a larger number is an error, not a database overflow
    tag = forms.CharField(required=False, max_length=60, label="Tag")
    rejected = forms.ChoiceField(required=False, choices=[("exclude", "hide rejected"), ("include", "show all"),
                                                          ("only", "only rejected")], label="Rejected")
    sort = forms.CharField(required=False, max_length=40)
    kind = forms.ChoiceField(required=False, choices=[("", "speech and muted shots"), ("speech", "speech clips"),
                                                      ("muted", "muted shots")], label="Kind")
    sync = forms.ChoiceField(required=False, choices=SYNC_CHOICES, label="Lip sync")
    speaking = forms.ChoiceField(required=False, choices=[("", "any"), ("yes", "yes"), ("no", "no")],
                                 label="Face speaking")
    # pipeline.quality.scoring's gates: not rejected, audio not mismatched, face not silent over speech
    usable = forms.ChoiceField(required=False, choices=[("", "any"), ("yes", "usable for training")],
                               label="Training", help_text="not rejected, audio matches, face speaks")

    def __init__(self, *args, videos=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bounds = {f"{key}_{side}": _bound_field(metric, side) for key, metric in METRICS.items() for side in ("min", "max")}
        ordered = {name: bounds.pop(name) for name in PRIMARY_BOUNDS}
        self.fields = {**ordered, **{k: v for k, v in self.fields.items()}, **bounds}
        self.fields["video"].widget.choices = [("", "all")] + [(v.pk, v.source_name) for v in videos]

    @classmethod
    def of(cls, dataset, data=None) -> "ClipFilter":
        """The filter form over ``dataset``'s clips (its videos are the source choices); ``data``: the query."""
        return cls(data or None, videos=list(dataset.videos.all()))

    def primary_fields(self) -> list:
        return [self[name] for name in ("q", *PRIMARY_BOUNDS, "usable", "sync", "speaking", "video", "tag", "rejected")]

    def secondary_fields(self) -> list:
        shown = {"q", *PRIMARY_BOUNDS, "usable", "sync", "speaking", "video", "tag", "rejected", "sort"}
        return [self[name] for name in self.fields if name not in shown]

    def clean(self) -> dict:
        data = super().clean()
        for key in METRICS:  # an empty range is a mistake to say, not "0 clips"
            low, high = data.get(f"{key}_min"), data.get(f"{key}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{key}_min", f"{low:g} is above {key}_max {high:g}")
        return data

    def clean_sort(self) -> str:
        value = self.cleaned_data.get("sort") or "name"
        return value if value.lstrip("-") in SORTABLE else "name"

    def restrict(self, clips: QuerySet) -> QuerySet:
        """Apply the filter (not the order): what a report aggregates over."""
        data = self.cleaned_data if self.is_valid() else {}
        for key, metric in METRICS.items():
            for side, lookup in (("min", "gte"), ("max", "lte")):
                if data.get(f"{key}_{side}") is not None:
                    if metric.in_json:
                        clips = clips.alias(**{metric.alias: metric.expression()})
                        clips = clips.filter(**{f"{metric.alias}__{lookup}": data[f"{key}_{side}"]})
                    else:
                        clips = clips.filter(**{f"{metric.field}__{lookup}": data[f"{key}_{side}"]})
        if data.get("sync"):
            clips = clips.filter(lip_sync_verdict=data["sync"])
        if data.get("speaking"):
            clips = clips.filter(face_speaking=data["speaking"] == "yes")
        if data.get("usable"):
            clips = clips.exclude(lip_sync_verdict="mismatch").exclude(face_speaking=False).filter(rejected__in=[False])
        if data.get("video") is not None:
            clips = clips.filter(video_id=data["video"])
        if data.get("tag"):
            clips = clips.filter(tags__name=data["tag"])
        if data.get("kind"):
            clips = clips.filter(muted=data["kind"] == "muted")
        if data.get("q"):
            clips = clips.filter(Q(name__icontains=data["q"]) | Q(source_name__icontains=data["q"]))
        rejected = data.get("rejected") or "exclude"
        # `rejected__in` is written as "rejected IN (0)", which SQLite can use as an index prefix;
        # `rejected=False` becomes "NOT rejected", which it cannot.
        if rejected == "exclude":
            clips = clips.filter(rejected__in=[False])
        elif rejected == "only":
            clips = clips.filter(rejected__in=[True])
        return clips

    def apply(self, clips: QuerySet) -> QuerySet:
        """Filter and order, as the clip table and downloads show them."""
        data = self.cleaned_data if self.is_valid() else {}
        sort = data.get("sort") or "name"
        key = sort.lstrip("-")
        metric = METRICS.get(key)
        if metric is not None and metric.in_json:
            expr = metric.expression()
            order = expr.desc(nulls_last=True) if sort.startswith("-") else expr.asc(nulls_last=True)
            return self.restrict(clips).order_by(order, "id")
        if key == "sync":
            rank, confidence = SYNC_ORDER, F("lip_sync_confidence")
            if sort.startswith("-"):
                return self.restrict(clips).order_by(rank.desc(), confidence.asc(nulls_first=True), "id")
            return self.restrict(clips).order_by(rank.asc(), confidence.desc(nulls_last=True), "id")
        field = SORTABLE[key]
        order = f"-{field}" if sort.startswith("-") else field
        return self.restrict(clips).order_by(order, "id")

    def problems(self) -> str:
        """What was not understood, one clause per field ("" when the filter is valid or empty)."""
        if not self.is_bound or self.is_valid():
            return ""
        return "; ".join(f"{field}: {' '.join(e.rstrip('.') for e in errors)}" for field, errors in self.errors.items())

    def active(self) -> dict:
        """The filter as it stands, for the manifest of a download and for display."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
