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
from django.http import QueryDict

from catalog.filters import ClipFilter
from exports.training import dataset_splits, export_clips
from jobs import background_run
from pipeline.training import baseline
from pipeline.training.training_data import TrainingExport
from pipeline.training.training_export import export_entries, write_export
from reports.models import BaselineRun


def enqueue(run: BaselineRun) -> None:
    from django_q.tasks import async_task

    async_task("reports.baseline_job.train_baseline", run.pk, task_name=f"baseline-{run.pk}",
               group=f"dataset-{run.dataset_id}")


def claim(run_id: int) -> str | None:
    """Take a queued run (or a running one whose worker died) for one attempt: its token, or None."""
    return background_run.claim(BaselineRun, run_id)


def train_baseline(run_id: int) -> str:
    work = Path(tempfile.mkdtemp(prefix="baseline-", dir=settings.SCRATCH_DIR))
    try:
        outcome, value = background_run.run_once(
            BaselineRun, run_id, lambda run, mine, token: {"metrics": train(run, work / "export")}, "train again")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if outcome == "done":
        return f"jawOpen r {value['metrics']['highlight'].get('jawOpen', {}).get('r')}"
    return "not claimed" if value is None else f"failed: {value}"


def requeue_stalled_baselines() -> int:
    """Watchdog (with the video jobs' one, every minute): a running baseline without heartbeat (its worker died,
    or django-q2 killed it at Q_TIMEOUT) is queued again, or after BASELINE_MAX_ATTEMPTS failed, saying why."""
    return background_run.requeue_stalled(BaselineRun, enqueue, settings.BASELINE_MAX_ATTEMPTS, "training",
                                          "train again")


def blocked_reason(dataset) -> str | None:
    """Why the baseline cannot be trained on this dataset (said on the button before anyone presses it), or None."""
    from exports.training import split_group_count

    videos = list(dataset.videos.only("pk", "shared_footage"))
    n, groups = len(videos), split_group_count(videos)
    if groups < 3:
        shared = f" ({n} videos, some sharing footage)" if groups < n else ""
        return (f"the dataset has {groups} independent recording{'' if groups == 1 else 's'}{shared}; the "
                "baseline is scored on held-out videos (the split is by source video), so it needs at least 3")
    return None


def train(run: BaselineRun, export_dir: Path) -> dict:
    dataset = run.dataset
    reason = blocked_reason(dataset)
    if reason:
        raise ValueError(reason)
    # validation videos train too: a closed-form ridge model has nothing to tune on them
    splits = {video: "train" if split == "validation" else split
              for video, split in dataset_splits(dataset, run.seed).items()}
    by_split = {name: [int(key.split("_")[1]) for key, split in splits.items() if split == name]
                for name in ("train", "test")}
    test_videos = by_split["test"]
    form = ClipFilter.of(dataset, QueryDict(run.query))
    if form.problems():
        raise ValueError(f"the filter was not understood: {form.problems()}")
    train_ids = list(form.restrict(dataset.clips.all()).filter(video_id__in=by_split["train"])
                     .values_list("pk", flat=True))
    if not train_ids:
        raise ValueError("no clip of this selection is in a training video")
    test_ids = list(dataset.clips.filter(video_id__in=test_videos, rejected=False).values_list("pk", flat=True))
    clips = (dataset.clips.filter(pk__in=[*train_ids, *test_ids])
             .select_related("video").prefetch_related("tags").order_by("video_id", "name"))
    write_export(export_entries(export_clips(clips.iterator(chunk_size=500)), splits, seed=run.seed), export_dir)
    model, metrics = baseline.train_on_export(TrainingExport(export_dir))
    baseline.save(model, run.model_path)
    names = dict(dataset.videos.values_list("pk", "source_name"))
    train_video_ids = set(dataset.clips.filter(pk__in=train_ids).values_list("video_id", flat=True))
    metrics["train_clips"] = len(train_ids)
    metrics["test_clips"] = len(test_ids)
    metrics["test_videos"] = sorted(names[pk] for pk in test_videos)
    metrics["train_video_names"] = sorted(names[pk] for pk in train_video_ids)
    metrics["train_videos"] = len(train_video_ids)
    return metrics
