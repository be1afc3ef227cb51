"""Video jobs with real django-q2 workers: progress, done, killed-worker retry without duplicates, cancel."""
from __future__ import annotations

import json
import os
import re
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from catalog.models import Video
from jobs import messages, service
from jobs.state import claim
from jobs.tasks import requeue_stalled
from testing.support import sign_in
from testing.workers import start_worker, stop_worker, wait_for

PARAMS = {"max_gap": 1.5, "min_clip": 2}
PASSWORD = "a-long-test-password"


def an_hour_passes(video) -> None:
    """What the watchdog would see an hour after a cluster died: heartbeats and broker locks an hour old."""
    from django_q.models import OrmQ

    from jobs.models import ClipTask

    hour = timedelta(hours=1)
    ClipTask.objects.filter(video=video).update(heartbeat=timezone.now() - hour)
    OrmQ.objects.filter(lock__gt=timezone.now()).update(lock=F("lock") - hour)


def test_claim_is_conditional(team_video):
    assert claim(team_video.pk)
    assert not claim(team_video.pk), "a second delivery of the same task must not run it twice"
    Video.objects.filter(pk=team_video.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    assert claim(team_video.pk), "a running job whose heartbeat stopped can be taken over"


def test_watchdog_requeues_then_gives_up(team_video):
    from django_q.models import OrmQ

    Video.objects.filter(pk=team_video.pk).update(status=Video.Status.RUNNING, attempts=1,
                                                  heartbeat=timezone.now() - timedelta(hours=1))
    assert requeue_stalled() == 1
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.QUEUED and OrmQ.objects.count() == 1
    Video.objects.filter(pk=team_video.pk).update(status=Video.Status.RUNNING, attempts=settings.JOB_MAX_ATTEMPTS,
                                                  heartbeat=timezone.now() - timedelta(hours=1))
    assert requeue_stalled() == 0
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.FAILED and "stopped" in team_video.error


@pytest.mark.slow
def test_worker_processes_a_video(team_video, client):
    messages.enqueue(team_video)
    worker = start_worker()
    try:
        sign_in(client, "ana", PASSWORD)
        seen = set()

        def finished():
            data = client.get(reverse("video_status", args=[team_video.pk])).json()
            seen.add((data["status"], data["stage"]))
            return data if data["status"] in ("done", "failed") else None

        data = wait_for(finished)
    finally:
        stop_worker(worker)
    assert data["status"] == "done", data
    assert data["clips_done"] == data["clips_total"] == 3
    assert any(status == "running" for status, _ in seen), "progress should be visible while the job runs"
    assert team_video.dataset.clips.count() == 3
    page = client.get(reverse("video_detail", args=[team_video.pk]))
    assert b"job_status.js" in page.content


@pytest.mark.slow
def test_killed_worker_is_retried_without_duplicates(team_video):
    messages.enqueue(team_video)
    worker = start_worker()
    try:
        wait_for(lambda: Video.objects.filter(pk=team_video.pk, clips_done__gte=1).exists())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the whole cluster dies mid-job, as in a crash
        worker.wait()
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.RUNNING  # stuck, until the watchdog sees the heartbeats stop
    assert requeue_stalled() == 0  # not yet: a worker may be slow, not dead
    an_hour_passes(team_video)
    assert requeue_stalled() >= 1  # the clip that was being cut, and those the dead cluster held untouched
    worker = start_worker()
    try:
        wait_for(lambda: Video.objects.filter(pk=team_video.pk, status__in=["done", "failed"]).exists())
    finally:
        stop_worker(worker)
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.DONE, team_video.error
    assert team_video.attempts == 1  # the clips were re-queued one by one; the video was not planned again
    names = list(team_video.dataset.clips.values_list("name", flat=True))
    assert sorted(names) == ["clip_0000", "clip_0001", "clip_0002"]


def test_cancel_and_retry(team_video, client):
    from django_q.models import OrmQ

    sign_in(client, "ana", PASSWORD)
    page = client.get(reverse("video_detail", args=[team_video.pk])).content.decode()
    # a queued job offers cancel, not retry
    assert not re.search(r'id="cancel-form"\s+hidden', page)
    assert re.search(r'id="retry-form"\s+hidden', page)
    client.post(reverse("video_cancel", args=[team_video.pk]))
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.CANCELLED
    assert not claim(team_video.pk), "a cancelled job is never picked up"
    client.post(reverse("video_retry", args=[team_video.pk]))
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.QUEUED and OrmQ.objects.count() == 1


def test_viewer_cannot_cancel_and_outsider_gets_404(team_video, client):
    viewer = get_user_model().objects.create_user("vic", password=PASSWORD)
    Membership.objects.create(team=team_video.dataset.team, user=viewer, role=Role.VIEWER)
    get_user_model().objects.create_user("bob", password=PASSWORD)
    sign_in(client, "vic", PASSWORD)
    assert client.post(reverse("video_cancel", args=[team_video.pk])).status_code == 403
    sign_in(client, "bob", PASSWORD)
    assert client.get(reverse("video_detail", args=[team_video.pk])).status_code == 404
    assert client.get(reverse("video_status", args=[team_video.pk])).status_code == 404
    assert client.post(reverse("video_cancel", args=[team_video.pk])).status_code == 404
    Video.objects.filter(pk=team_video.pk).update(status=Video.Status.FAILED)
    assert client.post(reverse("video_retry", args=[team_video.pk])).status_code == 404
    Video.objects.filter(pk=team_video.pk).update(status=Video.Status.QUEUED)
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.QUEUED


def test_a_cancelled_attempt_stops_writing_and_a_retry_waits_for_it(team_video):
    """Cancel then retry while a job runs: the old attempt can no longer write, and the new one never runs beside it."""
    import threading

    from jobs.progress import JobCancelled, VideoProgress
    from jobs.state import claim_when_free, release

    first = claim(team_video.pk)
    assert first
    assert service.cancel(team_video) and service.retry(team_video)
    assert claim(team_video.pk) is None, "the cancelled attempt has not stopped yet"
    with pytest.raises(JobCancelled):
        VideoProgress(team_video.pk, first).beat(force=True)

    got = {}
    waiter = threading.Thread(target=lambda: got.update(token=claim_when_free(team_video.pk)))
    waiter.start()
    time.sleep(1.5)
    assert "token" not in got, "the retry must wait while the old attempt holds the job"
    release(team_video.pk, first)  # the old attempt has stopped
    waiter.join(timeout=10)
    second = got["token"]
    assert second and second != first
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.RUNNING and team_video.run_token == second
    with pytest.raises(JobCancelled):  # running again, but not for the old attempt
        VideoProgress(team_video.pk, first).beat(force=True)
    VideoProgress(team_video.pk, second).beat(force=True)


def test_the_suite_runs_on_the_database_it_was_given(db):
    """scripts/test runs the job and catalog tests a second time with DATABASE_URL: make sure that is PostgreSQL."""
    from django.db import connection

    expected = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    assert connection.vendor == expected


@pytest.mark.slow
def test_the_clips_of_one_video_are_shared_by_two_clusters_and_survive_one_being_killed(team_video, tmp_path):
    """Two worker clusters (two machines in production) on one database and one data folder: both cut clips of
    the same video; one is killed with -9 mid-job; the other finishes; every clip exists exactly once."""
    from jobs.models import ClipTask
    from jobs.system_status import worker_status

    scratch = [tmp_path / "scratch-a", tmp_path / "scratch-b"]  # each machine's own local disk
    first = start_worker(Q_WORKERS="1", SCRATCH_DIR=str(scratch[0]))
    second = start_worker(Q_WORKERS="1", SCRATCH_DIR=str(scratch[1]))
    try:
        wait_for(lambda: worker_status().clusters == 2 and worker_status().workers == 2, 60)  # both machines up
        messages.enqueue(team_video)

        def both_busy():  # a clip of the same video in each cluster at once
            workers = set(ClipTask.objects.filter(video=team_video, status="running").values_list("worker", flat=True))
            return workers if len(workers) == 2 else None

        busy = wait_for(both_busy)
        in_first = [w for w in busy if os.getpgid(int(w.rsplit(":", 1)[1])) == first.pid]  # its process group
        assert len(in_first) == 1
        os.killpg(first.pid, signal.SIGKILL)  # one machine dies in the middle of a clip
        first.wait()
        # the watchdog (every minute in production) hands the dead cluster's clips to the living one once
        # their heartbeats are stale; here time is moved on instead of waiting JOB_STALE_SECONDS
        an_hour_passes(team_video)
        assert requeue_stalled() >= 1
        wait_for(lambda: Video.objects.filter(pk=team_video.pk, status__in=["done", "failed"]).exists())
    finally:
        for worker in (first, second):
            if worker.poll() is None:
                stop_worker(worker)
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.DONE, team_video.error
    names = list(team_video.dataset.clips.values_list("name", flat=True))
    assert sorted(names) == ["clip_0000", "clip_0001", "clip_0002"]
    tasks = list(ClipTask.objects.filter(video=team_video))
    assert {t.status for t in tasks} == {"done"} and len(tasks) == 3
    root = team_video.root
    assert not (root / ".plan").exists()
    assert not [p for p in root.rglob("*") if p.name.startswith(".") and p.is_file()]  # no stray partial files
    assert len(list((root / "clips").glob("*.mp4"))) == 3
    # both machines' disks were used; the surviving one is left clean (the killed one may keep what its dead
    # processes had open: its own disk, not shared, and nothing reads it)
    left = {folder.name: sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) for folder in scratch}
    assert all(folder.is_dir() for folder in scratch) and not left["scratch-b"], left
    # the report's stage times span the whole job (planned here, clips elsewhere, finished by the last clip)
    stages = json.loads((root / "dataset_report.json").read_text())["stage_seconds"]
    assert stages["clips"] > 0 and stages["audio_decode"] > 0
    assert stages["total"] >= stages["audio_decode"] + stages["segmentation"] + stages["clips"] - 0.01


def test_a_worker_that_cannot_see_the_shared_folder_fails_its_clip_saying_why(team_video):
    import socket

    from jobs.fanout import cut_clip, fan_out
    from jobs.models import ClipTask
    from pipeline.dataset.build import plan_dataset
    from pipeline.dataset.clip_plan import remove_plan
    from pipeline.dataset.options import dataset_params

    token = claim(team_video.pk)
    fan_out(team_video, token, plan_dataset(team_video.source_path, team_video.output_dir,
                                            dataset_params(team_video.params)))
    remove_plan(team_video.output_dir)  # what a machine without the mount (or with it elsewhere) sees
    longest = ClipTask.objects.filter(video=team_video).order_by("-seconds").first()
    assert cut_clip(team_video.pk, token) == f"clip {longest.index}: failed"  # the longest clip goes first
    failed = ClipTask.objects.get(video=team_video, status="failed")
    assert failed.pk == longest.pk and socket.gethostname() in failed.error
    assert "same path on every machine" in failed.error
    assert ClipTask.objects.filter(video=team_video, status="queued").count() == 2  # the others are untouched


def test_finishing_writes_from_the_clips_records_without_planning_or_hashing_again(team_video, monkeypatch):
    """Issue #23: the last clip's task writes the manifest and the report from the records the clips returned
    (ClipTask.record) and imports those lines: no second probe or segmentation, no file hashed again."""
    import json
    from pathlib import Path

    import pipeline.dataset.build
    import pipeline.dataset.clip_files
    from jobs import finishing, tasks
    from jobs.models import ClipTask

    in_finishing, during = [], []
    real_finish, real_plan, real_hash = finishing.finish_video, pipeline.dataset.build.plan_dataset, pipeline.dataset.clip_files.file_sha256

    def finish(*args, **kwargs):
        in_finishing.append(True)
        try:
            return real_finish(*args, **kwargs)
        finally:
            in_finishing.pop()

    def plan(*args, **kwargs):
        during.append("plan") if in_finishing else None
        return real_plan(*args, **kwargs)

    def sha(path):
        during.append(f"hash {Path(path).name}") if in_finishing else None
        return real_hash(path)

    monkeypatch.setattr(finishing, "finish_video", finish)
    monkeypatch.setattr(pipeline.dataset.build, "plan_dataset", plan)
    monkeypatch.setattr(pipeline.dataset.clip_files, "file_sha256", sha)
    assert tasks.process_video(team_video.pk) == "3 clip task(s) queued"
    token = Video.objects.get(pk=team_video.pk).run_token
    while tasks.process_clip_task(team_video.pk, token).startswith("clip "):
        pass
    team_video.refresh_from_db()
    assert team_video.status == Video.Status.DONE, team_video.error
    assert during == [], f"finishing planned or hashed again: {during}"
    assert all(t.record for t in ClipTask.objects.filter(video=team_video))
    root = Path(team_video.output_dir)
    lines = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    assert [line["clip"] for line in lines] == ["clip_0000", "clip_0001", "clip_0002"]
    for line in lines:  # the manifest repeats each clip's own metadata file
        meta = json.loads((root / line["metadata"]).read_text())
        assert line["files"] == meta["files"] and line["quality_score"] == meta["quality_score"]
    report = json.loads((root / "dataset_report.json").read_text())
    assert report["totals"]["clips"] == 3 and report["source"] == "talk3.mp4"
    assert team_video.report["totals"]["clips"] == 3 and team_video.dataset.clips.count() == 3
    assert set(report["stage_seconds"]) >= {"audio_decode", "segmentation", "clips", "total"}
