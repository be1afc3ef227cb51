"""Issue #22 (2): cancel stops the work itself, hangs and crashes twice fail a recording for good."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import Video
from jobs import messages, service
from jobs.fanout import give_up_or_retry, requeue_stalled_clips
from jobs.models import ClipTask
from jobs.state import hung as video_hung
from testing.workers import start_worker, stop_worker, wait_for


def running_clip(video: Video, attempts: int) -> ClipTask:
    Video.objects.filter(pk=video.pk).update(status=Video.Status.RUNNING, run_token="t", phase=Video.Phase.CUTTING,
                                          stage="extracting clips")
    return ClipTask.objects.create(video=video, index=0, seconds=5.0, run_token="t", status=ClipTask.Status.RUNNING,
                                   token="claim", attempts=attempts, heartbeat=timezone.now() - timedelta(hours=1))


def test_a_clip_whose_worker_died_once_is_queued_again(team_video):
    task = running_clip(team_video, attempts=1)
    assert requeue_stalled_clips() == 1
    task.refresh_from_db()
    assert task.status == ClipTask.Status.QUEUED and "worker stopped" in task.error


def test_a_clip_whose_worker_died_twice_is_failed_for_good_saying_why(team_video):
    task = running_clip(team_video, attempts=settings.CLIP_MAX_ATTEMPTS)
    requeue_stalled_clips()
    task.refresh_from_db()
    assert task.status == ClipTask.Status.FAILED
    assert "worker stopped" in task.error and "2 attempts" in task.error and "left out" in task.error


def test_a_hung_clip_is_retried_once_then_left_out(team_video):
    task = running_clip(team_video, attempts=1)
    assert give_up_or_retry(task, "hung: no new packet from the recording for 61 s")
    task.refresh_from_db()
    assert task.status == ClipTask.Status.QUEUED and "hung" in task.error
    ClipTask.objects.filter(pk=task.pk).update(status=ClipTask.Status.RUNNING, token="claim2", attempts=2)
    task.refresh_from_db()
    assert give_up_or_retry(task, "hung: no new packet from the recording for 61 s")
    task.refresh_from_db()
    assert task.status == ClipTask.Status.FAILED and "hung" in task.error and "left out" in task.error


def test_a_recording_whose_plan_hangs_twice_is_failed_for_good(team_video):
    from django_q.models import OrmQ

    Video.objects.filter(pk=team_video.pk).update(status=Video.Status.RUNNING, run_token="t", attempts=1)
    video_hung(team_video.pk, "t", "no new packet from the recording for 61 s")
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.QUEUED and OrmQ.objects.count() == 1 and "hang" in team_video.stage
    assert "no new packet" in team_video.error  # the reason, until the next attempt starts
    Video.objects.filter(pk=team_video.pk).update(status=Video.Status.RUNNING, run_token="u", attempts=2)
    video_hung(team_video.pk, "u", "no new packet from the recording for 61 s")
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.FAILED and "hung on 2 attempts" in team_video.error
    assert team_video.run_token == ""


@pytest.mark.slow
def test_a_cancel_mid_clip_stops_the_work_within_seconds_and_frees_the_worker(team_video, tmp_path, media):
    """One worker, one 40 s clip (about 15 s of work): cancelled 2 s in, the clip stops at once and the same
    worker then runs another team's video."""
    from bench.long_media import repeat_clip

    long = repeat_clip(media("retalk_face1.mp4"), tmp_path / "long.mp4", minutes=0.7)
    Video.objects.filter(pk=team_video.pk).update(source_path=str(long), source_name="long.mp4",
                                                  params={"min_clip": 20, "max_clip": 60, "max_gap": 5})
    messages.enqueue(team_video)
    worker = start_worker(Q_WORKERS="1")
    try:
        wait_for(lambda: ClipTask.objects.filter(video=team_video, status=ClipTask.Status.RUNNING).exists(), 120)
        time.sleep(2)
        assert service.cancel(team_video)
        cancelled = time.monotonic()
        wait_for(lambda: not ClipTask.objects.filter(video=team_video, status=ClipTask.Status.RUNNING).exists(), 30)
        stopped_after = time.monotonic() - cancelled
        wait_for(lambda: Video.objects.filter(pk=team_video.pk, run_token="").exists(), 30)
        other = Video.objects.create(dataset=team_video.dataset, source_name="talk3.mp4",
                                     source_path=str(media("talk3.mp4")), output_dir=str(tmp_path / "other"),
                                     params={"max_gap": 1.5, "min_clip": 2})
        messages.enqueue(other)
        wait_for(lambda: Video.objects.filter(pk=other.pk, status__in=["done", "failed"]).exists(), 240)
    finally:
        stop_worker(worker)
    assert stopped_after < 6, f"the cancelled clip went on for {stopped_after:.1f} s"
    task = ClipTask.objects.get(video=team_video)
    assert task.status != ClipTask.Status.DONE and "cancelled" in task.error
    assert not (tmp_path / "out" / "clips" / "clip_0000.mp4").exists(), "a stopped clip leaves no final file"
    other.refresh_from_db()
    assert other.status == Video.Status.DONE, other.error
