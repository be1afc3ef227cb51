"""tus uploads: chunks, resume, content checks, limits, permissions."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from catalog.models import Video
from testing.media_factory import truncate, write_av
from testing.support import sign_in
from testing.tus import client_for, create, patch, upload_all
from uploads.models import Upload

PASSWORD = "a-long-test-password"


def test_chunked_upload_resumes_and_queues_a_job(upload_lab, media, settings):
    from django_q.models import OrmQ

    data = media("talk3.mp4").read_bytes()
    ana = client_for("ana")
    created = create(ana, upload_lab["dataset"], len(data), "talk3.mp4", max_gap=1.5, min_clip=2)
    assert created.status_code == 201
    url = created["Location"]
    first = patch(ana, url, 0, data[:400_000])
    assert first.status_code == 204 and first["Upload-Offset"] == "400000"
    assert patch(ana, url, 0, data[:1000]).status_code == 409  # wrong offset: the server says where it is
    # the page is reloaded: a new session asks where to go on
    later = client_for("ana")
    head = later.head(url, HTTP_TUS_RESUMABLE="1.0.0")
    assert head.status_code == 200 and head["Upload-Offset"] == "400000" and head["Upload-Length"] == str(len(data))
    assert patch(later, url, 400_000, data[400_000:900_000]).status_code == 204
    done = patch(later, url, 900_000, data[900_000:])
    assert done.status_code == 204, done.content
    video = Video.objects.get()
    assert done["X-Video-URL"] == reverse("video_detail", args=[video.pk])
    assert video.status == Video.Status.QUEUED and video.params == {"max_gap": 1.5, "min_clip": 2.0}
    with open(video.source_path, "rb") as fh:
        assert fh.read() == data
    assert not Upload.objects.get().path.exists()
    assert OrmQ.objects.count() == 1


@pytest.mark.parametrize("case", ["not_a_video", "no_audio", "truncated", "still_image"])
def test_rejected_by_content_and_nothing_stays(upload_lab, media, tmp_path, case):
    if case == "not_a_video":
        data, name, reason = b"just some notes\n" * 1000, "notes.mp4", "not a readable video file"
    elif case == "no_audio":
        data, name, reason = write_av(tmp_path / "mute.mp4", 1.0, None).read_bytes(), "mute.mp4", "no audio track"
    elif case == "still_image":  # FFmpeg opens a picture as a one-frame "video": say what it is
        from PIL import Image

        Image.new("RGB", (64, 48), (200, 100, 50)).save(tmp_path / "face.png")
        data, name, reason = (tmp_path / "face.png").read_bytes(), "face.mp4", "a still image (PNG), not a video"
    else:
        data = truncate(media("retalk_face1.mp4"), tmp_path / "cut.mp4", 0.5).read_bytes()
        name, reason = "cut.mp4", "truncated"
    parts = set((Path(settings.DATA_DIR) / "uploads").glob("*.part"))  # other tests' unfinished uploads
    response = upload_all(client_for("ana"), upload_lab["dataset"], data, name)
    assert response.status_code == 422
    assert reason in response.json()["error"] and name in response.json()["error"]
    assert not Upload.objects.exists(), "a refused upload keeps neither its row nor its bytes (issue #22)"
    assert set((Path(settings.DATA_DIR) / "uploads").glob("*.part")) <= parts and not Video.objects.exists()


def test_too_large_and_bad_parameters(upload_lab, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    ana = client_for("ana")
    response = create(ana, upload_lab["dataset"], 5000)
    assert response.status_code == 413 and "limit" in response.json()["error"]
    assert create(ana, upload_lab["dataset"], 10, vad_mode=7).status_code == 400
    assert create(ana, upload_lab["dataset"], 10, min_clip=50, max_clip=10).status_code == 400
    assert not Upload.objects.exists()


def test_viewers_cannot_upload_and_outsiders_get_404(upload_lab):
    assert create(client_for("vic"), upload_lab["dataset"], 10).status_code == 403
    assert create(client_for("bob"), upload_lab["dataset"], 10).status_code == 404
    url = create(client_for("ana"), upload_lab["dataset"], 10)["Location"]
    assert client_for("bob").head(url).status_code == 404
    assert patch(client_for("bob"), url, 0, b"0123456789").status_code == 404


def test_upload_needs_csrf(upload_lab):
    strict = Client(enforce_csrf_checks=True)
    sign_in(strict, "ana", PASSWORD)
    assert create(strict, upload_lab["dataset"], 10).status_code == 403


def test_upload_form_shows_defaults_to_members_only(upload_lab):
    url = reverse("dataset_detail", args=[upload_lab["dataset"].pk])
    page = client_for("ana").get(url).content.decode()
    assert 'id="upload"' in page and 'name="min_clip" value="20.0"' in page
    assert '<option value="oneeuro">' in page
    assert 'id="upload"' not in client_for("vic").get(url).content.decode()
