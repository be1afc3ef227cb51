"""One row per clip of a video job: the clips of one video are tasks of their own, for any worker anywhere."""
from __future__ import annotations

from django.db import models


class ClipTask(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    video = models.ForeignKey("catalog.Video", on_delete=models.CASCADE, related_name="clip_tasks")
    index = models.PositiveIntegerField()
    seconds = models.FloatField(default=0.0)  # the clip's length: the longest are cut first (a shorter tail)
    run_token = models.CharField(max_length=32)  # the video attempt this clip belongs to
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    worker = models.CharField(max_length=100, blank=True)  # host:pid of the process that took it
    token = models.CharField(max_length=32, blank=True)  # this clip attempt's claim
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    record = models.JSONField(null=True, blank=True)  # a done clip's metadata (pipeline.dataset.clip_record): what finishing uses

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "index"], name="one_task_per_clip")]
        indexes = [models.Index(fields=["video", "status"])]
