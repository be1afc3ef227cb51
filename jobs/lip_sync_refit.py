"""The dataset's own lip-sync model: refit as the dataset grows, in the background (a django-q2 task, like the
baseline's), adopted only when it beats the shipped model on held-out videos (pipeline.quality.lip_sync_refit).

A finished video asks for a refit (``maybe_refit``) once the dataset has at least REFIT_MIN_CLIPS clips and
REFIT_GROWTH times as many as at the last refit; the claim is a conditional UPDATE on the dataset's
``lip_sync_model`` state, so two finishing videos enqueue one refit.  Clips cut after the adoption use the
dataset's model (``video_params``); clips already cut keep the verdicts of the model they were measured with.
"""
from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Clip, Dataset
from pipeline.dataset.options import dataset_params

log = logging.getLogger(__name__)
REFIT_MIN_CLIPS = 20
REFIT_GROWTH = 1.5


def model_path(dataset_id: int) -> Path:
    return Path(settings.DATA_DIR) / "lip_sync_models" / f"dataset-{dataset_id}.json"


def dataset_lip_model(dataset: Dataset) -> str | None:
    """The dataset's adopted model file, or None (the shipped model)."""
    state = dataset.lip_sync_model or {}
    path = model_path(dataset.pk)
    return str(path) if state.get("adopted") and path.is_file() else None


def video_params(video):
    """A video's pipeline parameters: its stored options, and its dataset's lip-sync model when it has one."""
    params = dataset_params(video.params)
    params.lip_model = dataset_lip_model(video.dataset)
    return params


def maybe_refit(dataset_id: int) -> bool:
    """Enqueue a refit when the dataset has grown enough since the last one; True when this call enqueued it."""
    clips = Clip.objects.filter(dataset_id=dataset_id).count()
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset_id)
        state = dataset.lip_sync_model or {}
        if state.get("status") in ("queued", "running") or clips < REFIT_MIN_CLIPS:
            return False
        if clips < REFIT_GROWTH * int(state.get("clips_seen") or 0):
            return False
        dataset.lip_sync_model = {**state, "status": "queued", "clips_seen": clips}
        dataset.save(update_fields=["lip_sync_model"])
    from django_q.tasks import async_task

    async_task("jobs.lip_sync_refit.refit_dataset", dataset_id, task_name=f"lip-sync-refit-{dataset_id}",
               group=f"dataset-{dataset_id}")
    return True


def refit_dataset(dataset_id: int) -> str:
    """Refit on every clip of the dataset with face data; adopt it when it scores better on held-out videos."""
    from pipeline.quality.lip_sync_model import model_at
    from pipeline.quality.lip_sync_refit import clip_recording, refit

    Dataset.objects.filter(pk=dataset_id).update(
        lip_sync_model=_state(dataset_id, status="running", started=timezone.now().isoformat()))
    try:
        by_video: dict[str, list] = {}
        for clip in Clip.objects.filter(dataset_id=dataset_id).select_related("video").order_by("video_id", "name"):
            rec = clip_recording(Path(clip.video.output_dir), clip.name, f"{clip.video_id}")
            if rec is not None:
                by_video.setdefault(str(clip.video_id), []).append(rec)
        result = refit(by_video, model_at())
        if result.adopted:
            result.model.save(model_path(dataset_id))
        summary = {**result.summary(), "status": "done", "finished": timezone.now().isoformat()}
        if not result.adopted and (_state(dataset_id).get("adopted")):
            summary["adopted"] = True  # an earlier adopted model stays until one beats the shipped model again
            summary["reason"] += "; the dataset keeps its earlier model"
        Dataset.objects.filter(pk=dataset_id).update(lip_sync_model=_state(dataset_id, **summary))
        return summary["reason"]
    except Exception as exc:  # noqa: BLE001 - recorded on the dataset, and raised for django-q2's log
        log.exception("lip-sync refit of dataset %s failed", dataset_id)
        Dataset.objects.filter(pk=dataset_id).update(
            lip_sync_model=_state(dataset_id, status="failed", reason=f"{type(exc).__name__}: {exc}"))
        raise


def _state(dataset_id: int, **changes) -> dict:
    current = Dataset.objects.filter(pk=dataset_id).values_list("lip_sync_model", flat=True).first() or {}
    return {**current, **changes}
