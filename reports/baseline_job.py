"""Train the baseline on a selection of a dataset (the django-q2 task behind the report's "train" button).

Training clips: the selection's clips whose video is in the train split.  Evaluation clips: every clip
not rejected of the test-split videos, whatever the selection, so that runs of one dataset are scored on
the same held-out frames and can be compared side by side.  The split is by source video, seeded.
"""
from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone

from catalog.filters import ClipFilter
from exports.training import dataset_splits, export_clips
from jobs.supervise import Supervisor
from pipeline.training import baseline
from pipeline.errors import PipelineError
from pipeline.training.training_data import TrainingExport
from pipeline.training.training_export import export_entries, write_export
from reports.models import BaselineRun

log = logging.getLogger(__name__)


def enqueue(run: BaselineRun) -> None:
    from django_q.tasks import async_task

    async_task("reports.baseline_job.train_baseline", run.pk, task_name=f"baseline-{run.pk}",
               group=f"dataset-{run.dataset_id}")


def claim(run_id: int) -> str | None:
    """Take a queued run (or a running one whose worker died) for one attempt: its token, or None."""
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    token = secrets.token_hex(16)
    free = Q(status=BaselineRun.Status.QUEUED) | Q(status=BaselineRun.Status.RUNNING) & (
        Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True))
    taken = BaselineRun.objects.filter(free, pk=run_id).update(
        status=BaselineRun.Status.RUNNING, run_token=token, heartbeat=timezone.now(), attempts=F("attempts") + 1)
    return token if taken else None


def train_baseline(run_id: int) -> str:
    token = claim(run_id)
    if not token:
        return "not claimed"
    mine = BaselineRun.objects.filter(pk=run_id, run_token=token, status=BaselineRun.Status.RUNNING)
    run = BaselineRun.objects.select_related("dataset").get(pk=run_id)
    work = Path(tempfile.mkdtemp(prefix="baseline-", dir=settings.SCRATCH_DIR))

    def beat() -> bool:
        return bool(mine.update(heartbeat=timezone.now()))

    def hung(reason: str) -> None:
        mine.update(status=BaselineRun.Status.FAILED, error=f"hung: {reason}", finished=timezone.now())

    try:
        with Supervisor(beat, hung):
            metrics = train(run, work / "export")
        mine.update(status=BaselineRun.Status.DONE, metrics=metrics, finished=timezone.now())
        return f"jawOpen r {metrics['highlight'].get('jawOpen', {}).get('r')}"
    except (ValueError, OSError, PipelineError) as exc:
        mine.update(status=BaselineRun.Status.FAILED, error=str(exc), finished=timezone.now())
        return f"failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - recorded for the user (and re-raised for django-q2's log)
        log.exception("baseline run %s failed", run_id)
        mine.update(status=BaselineRun.Status.FAILED, error=f"internal error ({type(exc).__name__}: {exc}); "
                    "train again, or report it", finished=timezone.now())
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def requeue_stalled_baselines() -> int:
    """Watchdog (with the video jobs' one, every minute): a running baseline without heartbeat (its worker died,
    or django-q2 killed it at Q_TIMEOUT) is queued again, or after BASELINE_MAX_ATTEMPTS failed, saying why."""
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    count = 0
    for run in BaselineRun.objects.filter(status=BaselineRun.Status.RUNNING).filter(
            Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)):
        same = BaselineRun.objects.filter(pk=run.pk, status=BaselineRun.Status.RUNNING, run_token=run.run_token)
        if run.attempts >= settings.BASELINE_MAX_ATTEMPTS:
            same.update(status=BaselineRun.Status.FAILED, finished=timezone.now(),
                        error=f"the worker stopped {run.attempts} times while training (a crash, out of memory, or "
                              "the task time limit Q_TIMEOUT); train again with fewer clips, or report it")
        elif same.update(status=BaselineRun.Status.QUEUED, run_token=""):
            enqueue(run)
            count += 1
    return count


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
