"""Starting, cancelling and retrying video jobs (what views and commands call)."""
from __future__ import annotations

from catalog.models import Video


def enqueue(video: Video) -> str:
    from django_q.tasks import async_task

    return async_task("jobs.tasks.process_video", video.pk, task_name=f"video-{video.pk}",
                      group=f"dataset-{video.dataset_id}")


def enqueue_recompute_quality(dataset_id: int) -> str:
    from django_q.tasks import async_task

    return async_task("jobs.tasks.recompute_quality", dataset_id, task_name=f"requalify-{dataset_id}",
                      group=f"dataset-{dataset_id}")


def cancel(video: Video) -> bool:
    """Queued or running jobs stop at their next progress report; finished ones are left alone."""
    return bool(Video.objects.filter(pk=video.pk, status__in=[Video.Status.QUEUED, Video.Status.RUNNING])
                .update(status=Video.Status.CANCELLED, stage="cancelled"))


def retry(video: Video) -> bool:
    """Failed or cancelled jobs go back to the queue and continue from their finished clips."""
    if Video.objects.filter(pk=video.pk, status__in=[Video.Status.FAILED, Video.Status.CANCELLED]).update(
            status=Video.Status.QUEUED, stage="queued", error="", attempts=0):
        enqueue(video)
        return True
    return False
