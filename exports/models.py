"""Frozen, citable selections of clips."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from catalog.models import Dataset


class Selection(models.Model):
    """A frozen, named set of clips: the list and every file's sha256 at the moment it was saved.

    ``manifest`` is canonical JSON text, never rewritten, so a later download gives byte-identical
    manifest.json; ``manifest_sha256`` is its hash, the thing a paper cites.
    """

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the stable link
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="selections")
    name = models.CharField(max_length=200)
    filter = models.JSONField(default=dict, blank=True)
    clip_count = models.PositiveIntegerField(default=0)
    manifest = models.TextField()
    manifest_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "catalog_selection"  # made in catalog; moved here with its rows (0001)
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name


class ExportJob(models.Model):
    """A training export made in the background (face-crop videos take minutes for a large selection): the
    filtered clips of a dataset in one layout, written to a zip the page then offers."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Making"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="export_jobs")
    layout = models.CharField(max_length=20)
    options = models.JSONField(default=dict, blank=True)  # crop_size, fps, seed
    query = models.TextField(blank=True)  # the clip table's filter (URL query)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    clips = models.PositiveIntegerField(default=0)  # in the selection
    frames_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)  # the export.json's counts, left_out and speed
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    run_token = models.CharField(max_length=32, blank=True)  # the attempt that owns it (conditional-update claims)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-id"]

    @property
    def zip_path(self):
        from pathlib import Path

        return Path(settings.DATA_DIR) / "exports" / f"{self.pk}.zip"
