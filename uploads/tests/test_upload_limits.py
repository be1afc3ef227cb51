"""Uploads on a shared server: names, quotas, free space, expiry, one writer per upload, disk errors."""
from __future__ import annotations

import errno
import fcntl
from datetime import timedelta

from django.utils import timezone

from catalog.models import Video
from testing.tus import client_for, create, patch
from uploads.models import Upload
from uploads.tus import expire_uploads


def test_a_long_file_name_is_cut_in_bytes_and_the_upload_resumes(upload_lab, media):
    data = media("retalk_face1.mp4").read_bytes()
    name = "é" * 200 + ".mp4"  # 404 bytes: more than a file system allows in one name
    ana = client_for("ana")
    url = create(ana, upload_lab["dataset"], len(data), name)["Location"]
    assert patch(ana, url, 0, data[:100_000]).status_code == 204
    head = ana.head(url, HTTP_TUS_RESUMABLE="1.0.0")
    assert head.status_code == 200 and head["Upload-Offset"] == "100000"
    done = patch(ana, url, 100_000, data[100_000:])
    assert done.status_code == 204, done.content
    video = Video.objects.get()
    assert video.source_name.endswith(".mp4") and len(video.source_name.encode()) <= 120
    assert video.source_name.startswith("é")


def test_open_uploads_are_capped_per_user(upload_lab, settings):
    settings.UPLOAD_MAX_OPEN = 2
    ana = client_for("ana")
    assert create(ana, upload_lab["dataset"], 10).status_code == 201
    assert create(ana, upload_lab["dataset"], 10).status_code == 201
    third = create(ana, upload_lab["dataset"], 10)
    assert third.status_code == 429 and "unfinished uploads" in third.json()["error"]
    assert Upload.objects.count() == 2


def test_announced_bytes_are_capped_per_user(upload_lab, settings):
    settings.UPLOAD_MAX_OPEN_BYTES = 1_000_000
    ana = client_for("ana")
    assert create(ana, upload_lab["dataset"], 600_000).status_code == 201
    second = create(ana, upload_lab["dataset"], 600_000)
    assert second.status_code == 429 and "limit" in second.json()["error"]


def test_an_upload_the_disk_cannot_hold_is_refused_before_a_byte_is_sent(upload_lab, settings):
    settings.UPLOAD_FREE_MARGIN = 10**18  # more than any disk has free
    response = create(client_for("ana"), upload_lab["dataset"], 1000)
    assert response.status_code == 507 and "free disk space" in response.json()["error"]
    assert not Upload.objects.exists()


def test_unfinished_uploads_expire_with_their_bytes(upload_lab, settings):
    ana = client_for("ana")
    old_url = create(ana, upload_lab["dataset"], 100)["Location"]
    patch(ana, old_url, 0, b"x" * 40)
    new_url = create(ana, upload_lab["dataset"], 100)["Location"]
    old = Upload.objects.get(id=old_url.rstrip("/").split("/")[-1])
    Upload.objects.filter(pk=old.pk).update(touched=timezone.now() - timedelta(hours=settings.UPLOAD_EXPIRE_HOURS + 1))
    assert old.path.exists()
    assert expire_uploads() == 1
    assert not old.path.exists() and not Upload.objects.filter(pk=old.pk).exists()
    assert ana.head(old_url).status_code == 404
    assert ana.head(new_url).status_code == 200  # the fresh one stays


def test_two_writers_never_interleave(upload_lab):
    ana = client_for("ana")
    url = create(ana, upload_lab["dataset"], 100)["Location"]
    upload = Upload.objects.get()
    with open(upload.path, "r+b") as other:  # another request (another process) is writing this upload
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        busy = patch(ana, url, 0, b"y" * 50)
        assert busy.status_code == 423 and "another request" in busy.json()["error"]
    assert patch(ana, url, 0, b"y" * 50).status_code == 204
    assert upload.path.read_bytes() == b"y" * 50


def test_a_full_disk_mid_upload_is_a_507_and_keeps_the_upload(upload_lab, monkeypatch):
    """A full disk cannot be made here safely, so the write is made to fail with ENOSPC."""
    import uploads.tus

    ana = client_for("ana")
    url = create(ana, upload_lab["dataset"], 100)["Location"]
    real_fsync = uploads.tus.os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads.tus.os, "fsync", full)
    response = patch(ana, url, 0, b"z" * 50)
    assert response.status_code == 507 and "disk is full" in response.json()["error"]
    monkeypatch.setattr(uploads.tus.os, "fsync", real_fsync)
    assert ana.head(url, HTTP_TUS_RESUMABLE="1.0.0").status_code == 200  # resumable once space is freed


def test_the_same_file_twice_is_reported_and_the_user_chooses(upload_lab, media):
    from django.urls import reverse

    data = media("retalk_face3.mp4").read_bytes()
    ana = client_for("ana")
    first_url = create(ana, upload_lab["dataset"], len(data), "face3.mp4")["Location"]
    assert patch(ana, first_url, 0, data[:100_000]).status_code == 204
    assert patch(ana, first_url, 100_000, data[100_000:]).status_code == 204
    original = Video.objects.get()
    import hashlib

    assert original.sha256 == hashlib.sha256(data).hexdigest()  # hashed while the chunks came in

    second_url = create(ana, upload_lab["dataset"], len(data), "face3 again.mp4")["Location"]
    again = patch(ana, second_url, 0, data)
    assert again.status_code == 204 and "X-Video-URL" not in again
    assert again["X-Duplicate-Of"].startswith("face3.mp4, uploaded by ana on ")
    assert again["X-Duplicate-URL"] == reverse("video_detail", args=[original.pk])
    assert Video.objects.count() == 1  # nothing processed twice behind the user's back
    kept = ana.post(again["X-Keep-URL"])
    assert kept.status_code == 200 and Video.objects.count() == 2
    assert ana.post(again["X-Keep-URL"]).status_code == 409  # decided once

    third_url = create(ana, upload_lab["dataset"], len(data), "face3 thrice.mp4")["Location"]
    assert patch(ana, third_url, 0, data)["X-Keep-URL"]
    third = Upload.objects.get(pk=third_url.rstrip("/").split("/")[-1])
    assert ana.delete(third_url, HTTP_TUS_RESUMABLE="1.0.0").status_code == 204  # skip
    assert Video.objects.count() == 2 and not third.path.exists() and not Upload.objects.filter(pk=third.pk).exists()
    # a script decides up front
    skip_url = create(ana, upload_lab["dataset"], len(data), "face3.mp4", duplicate="skip")["Location"]
    skipped = patch(ana, skip_url, 0, data)
    assert skipped["X-Duplicate-Skipped"] == "1" and Video.objects.count() == 2
