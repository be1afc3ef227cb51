"""Shared footage between the videos of a dataset, found when a video is imported (headless import or the end of
an upload's job): its fingerprint against every other video's, the result kept on both videos."""
from __future__ import annotations

from pathlib import Path

from django.db import transaction

from catalog.models import Video
from pipeline.dataset.shared_footage import read_fingerprint
from pipeline.media.fingerprint import shared_footage


def entry(other: Video, shared, mine_is_a: bool) -> dict:
    here, there = (shared.start_a_s, shared.start_b_s) if mine_is_a else (shared.start_b_s, shared.start_a_s)
    return {"video": other.pk, "name": other.source_name, "duration_s": round(shared.duration_s, 1),
            "start_s": round(here, 2), "other_start_s": round(there, 2),
            "bit_error_rate": round(shared.bit_error_rate, 3)}


def detect(video: Video) -> list[dict]:
    """Compare ``video`` with the dataset's other videos; store what each pair shares on both; the entries of
    ``video``.  A video without a fingerprint (a folder made before it existed) is compared with nothing."""
    mine = read_fingerprint(Path(video.output_dir))
    found: list[dict] = []
    others = Video.objects.filter(dataset_id=video.dataset_id).exclude(pk=video.pk).exclude(output_dir="")
    updates: dict[int, list[dict]] = {}
    for other in others.only("pk", "source_name", "output_dir", "shared_footage"):
        kept = [e for e in (other.shared_footage or []) if e.get("video") != video.pk]
        theirs = read_fingerprint(Path(other.output_dir)) if mine is not None else None
        shared = shared_footage(mine, theirs) if theirs is not None else None
        if shared is not None:
            found.append(entry(other, shared, True))
            kept.append(entry(video, shared, False))
        if kept != (other.shared_footage or []):
            updates[other.pk] = kept
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).update(shared_footage=found)
        for pk, entries in updates.items():
            Video.objects.filter(pk=pk).update(shared_footage=entries)
    return found


def forget_shared_footage(video: Video) -> None:
    """A deleted video leaves the other videos' lists."""
    for other in Video.objects.filter(dataset_id=video.dataset_id).exclude(pk=video.pk).only("pk", "shared_footage"):
        kept = [e for e in (other.shared_footage or []) if e.get("video") != video.pk]
        if kept != (other.shared_footage or []):
            Video.objects.filter(pk=other.pk).update(shared_footage=kept)
