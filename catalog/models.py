"""Datasets, their source videos, clips and tags: what the catalog shows and filters (teams: accounts)."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from accounts.models import Team
from pipeline.dataset.clip_files import ClipFiles, inside
from pipeline.dataset.clip_record import SUMMARY_FIELDS


class Dataset(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    # component -> weight of this dataset's quality score; empty: pipeline.quality.scoring's default preset
    score_weights = models.JSONField(default=dict, blank=True)
    # The last refit of the lip-sync audio-to-mouth model on this dataset (jobs.lip_sync_refit): scores, whether
    # it was adopted, and where the adopted model lies; {} before any.
    lip_sync_model = models.JSONField(default=dict, blank=True)
    # bumped whenever clip values change (import, re-scoring): the reports' cached columns follow it
    clips_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="dataset_name_unique_in_team")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def clips_changed(dataset_id: int) -> None:
    """Clip values of the dataset changed: its reports read them again (reports.data.dataset_columns)."""
    Dataset.objects.filter(pk=dataset_id).update(clips_version=models.F("clips_version") + 1)


class Video(models.Model):
    """One source recording and where its make_dataset output lives."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Phase(models.TextChoices):
        """Where a running job is (jobs.state moves it on with conditional UPDATEs); ``stage`` is only the words
        shown for it.  Idle: not running."""
        IDLE = "", "idle"
        PLANNING = "planning", "planning"  # one task: decode the audio, find speech, plan the clips
        CUTTING = "cutting", "cutting clips"  # ClipTasks on any worker, watched clip by clip
        FINISHING = "finishing", "finishing"  # one task: manifest, report, import
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="videos")
    source_name = models.CharField(max_length=255)
    source_path = models.CharField(max_length=1000, blank=True, help_text="the uploaded file (empty for imports)")
    output_dir = models.CharField(max_length=1000, help_text="folder holding the clips/ and data/ of this video")
    params = models.JSONField(default=dict, blank=True, help_text="make_dataset options for this video")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat = models.DateTimeField(null=True, blank=True)
    # The attempt that owns this job: set when a worker claims it, checked by every progress write,
    # cleared when that attempt has stopped.  A cancelled run therefore stops writing, and a retry
    # waits until it has let go instead of running beside it.
    run_token = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)  # of the uploaded recording (duplicates)
    updated = models.DateTimeField(auto_now=True)
    started = models.DateTimeField(null=True, blank=True)  # when the current attempt was claimed (jobs.state)
    finished = models.DateTimeField(null=True, blank=True)  # when it ended (done or failed); None while it runs
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.IDLE, blank=True)
    stage = models.CharField(max_length=40, blank=True)  # what the pages say the job is doing (never read back)
    clips_done = models.PositiveIntegerField(default=0)
    clips_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # From make_dataset's dataset_report.json: what is not a clip row (dropped segments, failed clips, totals).
    report = models.JSONField(default=dict, blank=True)
    # Tags and rejections of the clips a reprocess replaced ({start_s, end_s, tags, rejected}), given to the
    # new clips that cover the same span once they are imported.
    carry_over = models.JSONField(default=list, blank=True)
    # Other videos of the dataset whose recordings share footage with this one (catalog.shared_footage):
    # [{"video": id, "name", "duration_s", "start_s" (here), "other_start_s", "bit_error_rate"}]
    shared_footage = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_name", "id"]

    def __str__(self) -> str:
        return self.source_name

    @property
    def root(self) -> Path:
        return Path(self.output_dir)


class Tag(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="tag_unique_in_dataset")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Clip(models.Model):
    """One complete clip of a make_dataset output (its metadata and manifest line, denormalised for filtering)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="clips")
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="clips")
    name = models.CharField(max_length=40)  # clip_0000
    source_name = models.CharField(max_length=255, default="")  # the video's original name, copied for sorting
    source_start_s = models.FloatField()
    source_end_s = models.FloatField()
    duration_s = models.FloatField()
    fps = models.FloatField()
    frames = models.PositiveIntegerField()
    face_frames = models.PositiveIntegerField()
    face_rate = models.FloatField()
    quality_score = models.FloatField()
    valid_rate = models.FloatField()
    smoothness = models.FloatField()
    range_validity = models.FloatField()
    # Lip sync (pipeline.quality.lip_sync); the columns are named as pipeline.dataset.clip_record.SUMMARY_FIELDS.
    lip_sync_offset_ms = models.FloatField(null=True, blank=True)  # lip-sync offset, ms; NULL: no reliable offset
    lip_sync_offset_abs_ms = models.FloatField(null=True, blank=True)
    lip_sync_confidence = models.FloatField(null=True, blank=True)  # lip-sync confidence (z-score against shifted audio)
    lip_sync_verdict = models.CharField(max_length=24, blank=True, default="")
    face_speaking = models.BooleanField(null=True, blank=True)
    quality = models.JSONField(default=dict, blank=True)  # every stored QC value: what the score is computed from
    quality_reasons = models.JSONField(default=list, blank=True)  # why it loses points, in words
    speech_ratio = models.FloatField()
    muted = models.BooleanField(default=False)  # a muted shot (no speech), made with the muted_shots option
    files = models.JSONField(default=dict)  # role -> {"path", "bytes", "sha256"}, paths relative to video.output_dir
    rejected = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="clips")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "name"], name="clip_unique_per_video")]
        # The table is almost always read as "this dataset, not rejected, ordered by X": one index per sortable X,
        # so a page is an index range scan; (duration, score) also covers the dataset list's totals.
        indexes = [
            models.Index(fields=["dataset", "rejected", "name"], name="clip_by_name"),
            models.Index(fields=["dataset", "rejected", "source_name", "name"], name="clip_by_source"),
            models.Index(fields=["dataset", "rejected", "source_start_s"], name="clip_by_start"),
            models.Index(fields=["dataset", "rejected", "duration_s", "quality_score"], name="clip_by_duration"),
            models.Index(fields=["dataset", "rejected", "quality_score"], name="clip_by_score"),
            models.Index(fields=["dataset", "rejected", "face_rate"], name="clip_by_face"),
            models.Index(fields=["dataset", "rejected", "speech_ratio"], name="clip_by_speech"),
            models.Index(fields=["dataset", "rejected", "lip_sync_offset_abs_ms"], name="clip_by_lag"),
            models.Index(fields=["dataset", "rejected", "valid_rate"], name="clip_by_valid"),
            models.Index(fields=["dataset", "rejected", "smoothness"], name="clip_by_smooth"),
        ]
        ordering = ["video_id", "name"]

    def __str__(self) -> str:
        return f"{self.video.source_name}/{self.name}"

    def summary(self) -> dict:
        """The clip's values under pipeline.dataset.clip_record's names (the columns are named so): what every reader
        of a catalog clip (zip manifest, frozen selection, training export) takes its values from."""
        return {name: getattr(self, name) for name in SUMMARY_FIELDS}

    def file_path(self, role: str) -> Path | None:
        """Where one of the clip's files is: a role of its manifest entry, or "metadata" (written last, not listed)."""
        if role == "metadata":
            return ClipFiles(self.video.root, self.name).metadata
        entry = self.files.get(role)
        if not entry:
            return None
        # never serve a file outside the video's folder, whatever the row says
        return self.video.root / entry["path"] if inside(self.video.root, entry.get("path")) else None
