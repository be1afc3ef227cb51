"""Resumable uploads in progress and refused ones (counted to limit refusals)."""
from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.models import Dataset, Video


class Upload(models.Model):
    """A resumable (tus) upload in progress: bytes stream to ``path`` until ``offset`` reaches ``length``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    filename = models.CharField(max_length=255)
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    video = models.OneToOneField(Video, null=True, blank=True, on_delete=models.SET_NULL)
    # complete, but the same file is already in the dataset: waits for the user's "skip" or "keep both"
    duplicate_of = models.ForeignKey(Video, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    touched = models.DateTimeField(default=timezone.now)  # last bytes received: unfinished uploads expire from here

    class Meta:
        db_table = "catalog_upload"  # made in catalog; moved here with its rows (0001)

    @property
    def path(self) -> Path:
        return Path(settings.DATA_DIR) / "uploads" / f"{self.id}.part"


class UploadRefusal(models.Model):
    """That a user's upload was refused (its row and bytes are gone): counted to limit refusals per hour."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "catalog_uploadrefusal"  # made in catalog; moved here with its rows (0001)
