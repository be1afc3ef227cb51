"""PostgreSQL stopped and started again while two worker clusters cut the clips of a video.

Runs in the PostgreSQL pass of scripts/test, which starts a private server and tells this test how to
stop and start it (PG_BIN, PG_DATA, PG_LOG, PG_OPTS, PG_OWNER).  In the SQLite pass there is no server
to restart, so it is skipped there with that reason.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from catalog.models import Video
from jobs import messages
from jobs.models import ClipTask
from testing.support import REPO
from testing.workers import stop_worker, wait_for, worker_database_env

pytestmark = pytest.mark.skipif(
    not os.environ.get("PG_DATA") or not os.environ.get("DATABASE_URL"),
    reason="needs the private PostgreSQL server of scripts/test's PostgreSQL pass (it restarts that server)")


def pg_ctl(*args: str) -> None:
    command = [f"{os.environ['PG_BIN']}/pg_ctl", "-D", os.environ["PG_DATA"], *args]
    if os.environ.get("PG_OWNER"):
        command = ["runuser", "-u", os.environ["PG_OWNER"], "--", *command]
    subprocess.run(command, cwd="/", check=True, stdout=subprocess.DEVNULL, timeout=120)


def start_worker_machine(scratch: Path) -> subprocess.Popen:
    """A worker machine as the README's "Deploying" starts one: scripts/worker on the shared folder."""
    env = {**os.environ, "DATA_DIR": str(settings.DATA_DIR), **worker_database_env(), "Q_WORKERS": "1",
           "SCRATCH_DIR": str(scratch)}
    return subprocess.Popen(["bash", "scripts/worker"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def finished(video: Video) -> bool:
    return Video.objects.filter(pk=video.pk, status__in=["done", "failed"]).exists()


@pytest.mark.slow
def test_a_postgresql_restart_under_running_workers_loses_nothing(team_video, tmp_path):  # noqa: F811
    first = start_worker_machine(tmp_path / "scratch-a")
    second = start_worker_machine(tmp_path / "scratch-b")
    try:
        messages.enqueue(team_video)
        wait_for(lambda: ClipTask.objects.filter(video=team_video, status="running").exists())
        browser = Client(raise_request_exception=False)
        browser.force_login(team_video.uploaded_by)
        connection.close()
        pg_ctl("stop", "-m", "fast", "-w")  # every connection is cut while clips are being cut
        started = time.monotonic()
        page = browser.get(reverse("home"))  # a user meanwhile: told to wait, not shown a bare 500
        assert page.status_code == 503 and page["Retry-After"] and b"not answering" in page.content
        time.sleep(max(0.0, 8 - (time.monotonic() - started)))  # heartbeats, finished clips, broker polls fail
        pg_ctl("start", "-w", "-l", os.environ["PG_LOG"], "-o", os.environ["PG_OPTS"])
        connection.close()
        assert browser.get(reverse("home")).status_code == 200  # and back as soon as the server is
        wait_for(lambda: finished(team_video), 300)
        # each clip was claimed once: the workers waited for the server, no watchdog had to hand clips back
        assert list(ClipTask.objects.filter(video=team_video).values_list("attempts", flat=True)) == [1, 1, 1]
        assert first.poll() is None and second.poll() is None, "a cluster died with the database"
        # and both clusters still take new work
        again = Video.objects.create(dataset=team_video.dataset, source_name="talk3.mp4",
                                     source_path=team_video.source_path, output_dir=str(tmp_path / "again"),
                                     params=team_video.params, uploaded_by=team_video.uploaded_by)
        messages.enqueue(again)
        wait_for(lambda: finished(again), 300)
    finally:
        for worker in (first, second):
            if worker.poll() is None:
                stop_worker(worker)
    for video in (team_video, again):
        video.refresh_from_db()
        assert video.status == Video.Status.DONE, video.error
        assert sorted(video.clips.values_list("name", flat=True)) == ["clip_0000", "clip_0001", "clip_0002"], video.output_dir
        assert set(ClipTask.objects.filter(video=video).values_list("status", flat=True)) == {"done"}
        assert not [p for p in video.root.rglob("*") if p.name.startswith(".")], "stray partial or plan files"
        assert len(list((video.root / "clips").glob("*.mp4"))) == 3
