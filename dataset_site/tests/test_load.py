"""Uploads and readers at once against the production server (gunicorn, as scripts/run starts it).

20 concurrent tus uploads (good recordings, corrupt files, wrong types, oversized files, video without audio)
run beside 50 concurrent catalog readers, while a real django-q2 cluster processes what is accepted.  No
request may get a 5xx, every bad file must be refused with its own reason, every good one must end as a
processed video with its clips.
"""
from __future__ import annotations

import base64
import http.client
import io
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import ApiToken, Membership, Role, Team
from accounts.tokens import issue
from catalog.models import Clip, Dataset, Video
from testing.media_factory import truncate, write_av
from testing.server import Server
from testing.workers import start_worker, stop_worker, wait_for, worker_database_env
from uploads.models import Upload

LIMIT = 30_000_000  # UPLOAD_MAX_BYTES for this server
CHUNK = 256 * 1024
READERS = 50


@dataclass
class Upload_:
    name: str
    data: bytes
    expect: int  # the final status: 204 accepted, 413 / 422 refused
    reason: str = ""  # words the refusal must contain (besides the file's name, for content refusals)
    length: int | None = None  # announced Upload-Length (oversized files announce their true, too-large size)
    got: int = 0
    error: str = ""


@dataclass
class Tally:
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int) -> None:
        with self.lock:
            self.statuses.append(status)


def request(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    try:
        connection.request(method, path, body=body, headers={"Host": "localhost", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def send(port: int, token: str, dataset: int, item: Upload_, tally: Tally) -> None:
    auth = {"Authorization": f"Token {token}", "Tus-Resumable": "1.0.0"}
    meta = f"filename {b64(item.name)},duplicate {b64('keep')},max_gap {b64('1.5')},min_clip {b64('2')}"
    status, headers, body = request(port, "POST", f"/datasets/{dataset}/uploads/", {
        **auth, "Upload-Length": str(item.length or len(item.data)), "Upload-Metadata": meta})
    tally.add(status)
    if status != 201:
        item.got, item.error = status, body.decode(errors="replace")
        return
    url = headers["Location"]
    for offset in range(0, len(item.data), CHUNK):
        status, _, body = request(port, "PATCH", url, {
            **auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
            item.data[offset:offset + CHUNK])
        tally.add(status)
        if status != 204:
            break
    item.got, item.error = status, body.decode(errors="replace")


def read(port: int, token: str, paths: list[str], stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        status, _, _ = request(port, "GET", rng.choice(paths), {"Authorization": f"Token {token}"})
        tally.add(status)


def still_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def the_files(media, tmp_path: Path) -> list[Upload_]:
    good = [Upload_(f"{i}_{name}", media(name).read_bytes(), 204)
            for i in range(2) for name in ("retalk_face1.mp4", "retalk_face2.mp4", "retalk_face3.mp4", "talk3.mp4")]
    corrupt = [Upload_(f"cut_{i}.mp4", truncate(media("retalk_face1.mp4"), tmp_path / f"cut{i}.mp4", fraction)
                       .read_bytes(), 422, "truncated") for i, fraction in enumerate((0.4, 0.5, 0.6))]
    wrong = [Upload_("notes.mp4", b"meeting notes, not a video\n" * 500, 422, "not a readable video file"),
             Upload_("photo.mov", still_png(), 422, "a still image (PNG), not a video"),
             Upload_("talk.mp4", random.Random(2).randbytes(300_000), 422, "not a readable video file")]
    oversized = [Upload_(f"huge_{i}.mp4", b"", 413, "limit", length=LIMIT + 1 + i) for i in range(3)]
    mute = write_av(tmp_path / "mute.mp4", 2.0, None).read_bytes()
    silent = [Upload_(f"mute_{i}.mp4", mute, 422, "no audio track") for i in range(3)]
    files = good + corrupt + wrong + oversized + silent
    assert len(files) == 20
    return files


def seed_catalog(dataset: Dataset, clips: int) -> None:
    """A catalog the readers page through: ``clips`` clips over 10 finished videos."""
    rng = np.random.default_rng(0)
    videos = [Video.objects.create(dataset=dataset, source_name=f"talk_{i}.mp4", output_dir="/nonexistent",
                                   status="done", report={}) for i in range(10)]
    Clip.objects.bulk_create([
        Clip(dataset=dataset, video=videos[i % 10], source_name=videos[i % 10].source_name, name=f"clip_{i:05d}",
             source_start_s=i * 7.0, source_end_s=i * 7.0 + 5, duration_s=float(rng.uniform(2, 60)), fps=25,
             frames=125, face_frames=120, face_rate=float(rng.uniform(0.5, 1)),
             quality_score=float(rng.uniform(20, 100)), valid_rate=float(rng.random()), smoothness=0.5,
             range_validity=1.0, speech_ratio=float(rng.random()), files={})
        for i in range(clips)], batch_size=1000)


@pytest.mark.slow
def test_twenty_uploads_beside_fifty_readers_no_5xx_every_file_accounted_for(transactional_db, media, tmp_path):
    user = get_user_model().objects.create_user("ana", password="a-long-test-password")
    team = Team.objects.create(name="Lab A")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    incoming = Dataset.objects.create(team=team, name="incoming")
    catalog = Dataset.objects.create(team=team, name="catalog")
    seed_catalog(catalog, 3000)
    upload_key = issue(user, "uploader", ApiToken.Scope.UPLOAD)
    read_key = issue(user, "reader")
    files = the_files(media, tmp_path)
    paths = ["/", f"/datasets/{catalog.pk}/", f"/datasets/{catalog.pk}/?score_min=60&sort=-score",
             f"/datasets/{catalog.pk}/?duration_max=30&sort=video&page=5", f"/datasets/{incoming.pk}/",
             f"/datasets/{incoming.pk}/videos.json"]

    env = {"UPLOAD_MAX_BYTES": str(LIMIT), "UPLOAD_MAX_OPEN": "40", "WEB_WORKERS": "2", "WEB_THREADS": "8",
           **worker_database_env()}
    server = Server(Path(settings.DATA_DIR), **env)
    worker = start_worker(Q_WORKERS="2")
    tally, stop = Tally(), threading.Event()
    try:
        readers = [threading.Thread(target=read, args=(server.port, read_key, paths, stop, tally, i))
                   for i in range(READERS)]
        senders = [threading.Thread(target=send, args=(server.port, upload_key, incoming.pk, item, tally))
                   for item in files]
        for thread in readers + senders:
            thread.start()
        for thread in senders:
            thread.join(timeout=300)
        # readers go on while the accepted videos are processed
        wait_for(lambda: Video.objects.filter(dataset=incoming).exclude(status__in=["queued", "running"]).count()
                 == Video.objects.filter(dataset=incoming).count(), 400)
        stop.set()
        for thread in readers:
            thread.join(timeout=200)
    finally:
        stop.set()
        stop_worker(worker)
        server.stop()

    served = [s for s in tally.statuses if s >= 500]
    assert not served, f"{len(served)} server errors: {sorted(set(served))}"
    assert len(tally.statuses) > 300 and set(tally.statuses) <= {200, 201, 204, 413, 422}, sorted(set(tally.statuses))
    for item in files:
        assert item.got == item.expect, (item.name, item.got, item.error)
        if item.expect != 204:
            assert item.reason in item.error, (item.name, item.error)
            if item.expect == 422:
                assert item.name in item.error, (item.name, item.error)
    videos = list(Video.objects.filter(dataset=incoming))
    assert sorted(v.source_name for v in videos) == sorted(i.name for i in files if i.expect == 204)
    for video in videos:
        assert video.status == Video.Status.DONE, (video.source_name, video.error)
        assert video.clips.count() == 3 if "talk3" in video.source_name else video.clips.count() >= 1, \
            video.source_name
    from uploads.models import UploadRefusal

    # the content refusals keep neither bytes nor rows (issue #22): each is counted for the hourly limit only
    assert UploadRefusal.objects.count() == 9 and not Upload.objects.filter(dataset=incoming).exclude(error="").exists()
    assert not any(Upload.objects.filter(dataset=incoming, video__isnull=True).values_list("id", flat=True))
