"""Baseline runs: the audio-to-expression baseline trained on one selection of a dataset, and its held-out scores."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models


class BaselineRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Training"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.CASCADE, related_name="baseline_runs")
    label = models.CharField(max_length=100)
    query = models.TextField(blank=True)  # the clip table's filter (URL query) that chose the training clips
    seed = models.PositiveIntegerField(default=0)  # of the split by source video
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    # ownership of a running attempt, as video jobs have it: every write names it; the watchdog re-queues a
    # run whose heartbeat stopped, and fails it after BASELINE_MAX_ATTEMPTS
    run_token = models.CharField(max_length=32, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created", "id"]

    @property
    def model_path(self) -> Path:
        return Path(settings.DATA_DIR) / "baselines" / f"{self.pk}.npz"
