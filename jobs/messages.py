"""What goes on the broker (django-q2): the one place that names a job's task functions."""
from __future__ import annotations

from catalog.models import Video


def enqueue(video: Video) -> str:
    """Queue the plan of a video (jobs.tasks.process_video)."""
    from django_q.tasks import async_task

    return async_task("jobs.tasks.process_video", video.pk, task_name=f"video-{video.pk}",
                      group=f"dataset-{video.dataset_id}")


def enqueue_recompute_quality(dataset_id: int) -> str:
    from django_q.tasks import async_task

    return async_task("jobs.tasks.recompute_quality", dataset_id, task_name=f"requalify-{dataset_id}",
                      group=f"dataset-{dataset_id}")


def clip_message_name(video_id: int) -> str:
    return f"video-{video_id}-clips"


def send_clip_messages(video: Video, run_token: str, count: int) -> None:
    """Queue ``count`` messages that each cut whichever clip of the video is next when a worker runs it."""
    from django_q.tasks import async_task

    for _ in range(count):
        async_task("jobs.tasks.process_clip_task", video.pk, run_token, task_name=clip_message_name(video.pk),
                   group=f"dataset-{video.dataset_id}")
