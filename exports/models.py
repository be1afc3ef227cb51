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
