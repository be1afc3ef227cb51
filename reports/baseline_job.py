"""Train the baseline on a selection of a dataset (the django-q2 task behind the report's "train" button).

Training clips: the selection's clips whose video is in the train split.  Evaluation clips: every clip
not rejected of the test-split videos, whatever the selection, so that runs of one dataset are scored on
the same held-out frames and can be compared side by side.  The split is by source video, seeded.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from catalog.filters import ClipFilter
from catalog.training import dataset_splits, export_clips
from pipeline import baseline
from pipeline.training_data import TrainingExport
from pipeline.training_export import export_entries, write_export

from .models import BaselineRun


def train_baseline(run_id: int) -> str:
    if not BaselineRun.objects.filter(pk=run_id, status=BaselineRun.Status.QUEUED).update(
            status=BaselineRun.Status.RUNNING):
        return "not claimed"
    run = BaselineRun.objects.select_related("dataset").get(pk=run_id)
    work = Path(tempfile.mkdtemp(prefix="baseline-", dir=settings.SCRATCH_DIR))
    try:
        metrics = train(run, work / "export")
        BaselineRun.objects.filter(pk=run_id).update(status=BaselineRun.Status.DONE, metrics=metrics,
                                                     finished=timezone.now())
        return f"jawOpen r {metrics['highlight'].get('jawOpen', {}).get('r')}"
    except (ValueError, OSError) as exc:
        BaselineRun.objects.filter(pk=run_id).update(status=BaselineRun.Status.FAILED, error=str(exc),
                                                     finished=timezone.now())
        return f"failed: {exc}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def train(run: BaselineRun, export_dir: Path) -> dict:
    dataset = run.dataset
    splits = dataset_splits(dataset, run.seed)
    by_split = {name: [int(key.split("_")[1]) for key, split in splits.items() if split == name]
                for name in ("train", "validation", "test")}
    test_videos = by_split["test"]
    if not test_videos:
        raise ValueError(f"the dataset has {len(splits)} video(s); the baseline is scored on held-out videos, "
                         "so it needs at least 3")
    form = ClipFilter(QueryDict(run.query), videos=list(dataset.videos.all()))
    if form.problems():
        raise ValueError(f"the filter was not understood: {form.problems()}")
    train_ids = list(form.restrict(dataset.clips.all()).filter(video_id__in=by_split["train"])
                     .values_list("pk", flat=True))
    if not train_ids:
        raise ValueError("no clip of this selection is in a training video")
    # validation videos take no part: a ridge model has nothing to tune on them here
    clips = (dataset.clips.filter(Q(pk__in=train_ids) | Q(video_id__in=test_videos, rejected=False))
             .select_related("video").prefetch_related("tags").order_by("video_id", "name"))
    write_export(export_entries(export_clips(clips.iterator(chunk_size=500)), splits, seed=run.seed), export_dir)
    model, metrics = baseline.train_on_export(TrainingExport(export_dir))
    baseline.save(model, run.model_path)
    metrics["train_clips"] = len(train_ids)
    metrics["test_videos"] = sorted(dataset.videos.filter(pk__in=test_videos).values_list("original_name", flat=True))
    metrics["train_videos"] = len(set(dataset.clips.filter(pk__in=train_ids).values_list("video_id", flat=True)))
    return metrics
