"""#24: face-crop videos are made in the background: started from the clip table's filter, followed on a page,
the zip offered when complete (never a half-written one), one at a time per user, a dead worker's run re-queued."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from exports.models import ExportJob
from testing.support import login


def test_face_crops_are_made_in_the_background_and_offered_when_done(client, lab, settings):
    from exports.export_job import run_export

    talks = lab["talks"]
    keep = talks.clips.order_by("name")[0]
    login(client, "vic")  # a viewer may download, so may make an export
    page = client.get(reverse("dataset_detail", args=[talks.pk])).content.decode()
    assert 'id="facecrops-form"' in page and 'value="facecrops"' not in page.split('id="facecrops-form"')[0]
    response = client.post(reverse("export_job_start", args=[talks.pk]),
                           {"query": f"score_min={keep.quality_score}", "crop_size": "256", "format": "facecrops"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("export_job_detail", args=[job.pk])
    expected = talks.clips.filter(quality_score__gte=keep.quality_score).count()
    assert job.status == "queued" and job.clips == expected
    # a second one while the first is not done is refused, saying why
    again = client.post(reverse("export_job_start", args=[talks.pk]), {"query": "", "crop_size": "256"})
    assert again.status_code == 400 and b"being made already" in again.content
    assert client.get(reverse("export_job_file", args=[job.pk])).status_code == 404
    assert "refreshes itself" in client.get(reverse("export_job_detail", args=[job.pk])).content.decode()
    assert run_export(job.pk) == f"{expected} clips"
    job.refresh_from_db()
    assert job.status == "done" and job.frames_done > 0 and job.summary["speed"]["frames_per_s"] > 0
    assert not list(job.zip_path.parent.glob(".*.partial"))
    detail = client.get(reverse("export_job_detail", args=[job.pk])).content.decode()
    assert 'id="export-download"' in detail and "frames/s" in detail
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(reverse("export_job_file", args=[job.pk])).streaming_content)))
    top = archive.namelist()[0].split("/")[0]
    info = json.loads(archive.read(f"{top}/export.json"))
    assert info["size"] == 256 and sum(info["counts"]["clips"].values()) == expected
    assert sum(1 for n in archive.namelist() if n.endswith("/video.mp4")) == expected
    # other teams see nothing of it
    login(client, "bob")
    assert client.get(reverse("export_job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("export_job_file", args=[job.pk])).status_code == 404


def test_bad_requests_are_refused_and_the_streamed_download_sends_facecrops_to_the_form(client, lab):
    talks = lab["talks"]
    login(client, "ana")
    for bad in ({"crop_size": "300"}, {"format": "parquet"}, {"query": "score_min=x"}):
        assert client.post(reverse("export_job_start", args=[talks.pk]), bad).status_code == 400, bad
    assert client.get(reverse("export_job_start", args=[talks.pk])).status_code == 405
    response = client.get(reverse("training_download", args=[talks.pk]), {"format": "facecrops"})
    assert response.status_code == 400 and b"made in the background" in response.content
    assert not ExportJob.objects.exists()


def test_a_run_whose_worker_died_is_queued_again_then_failed_saying_why(lab, settings):
    from exports.export_job import claim, requeue_stalled_exports

    job = ExportJob.objects.create(dataset=lab["talks"], layout="facecrops", options={"crop_size": 256})
    for attempt in (1, 2):
        assert claim(job.pk)
        assert requeue_stalled_exports() == 0, "a live heartbeat is left alone"
        ExportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
        requeue_stalled_exports()
        job.refresh_from_db()
    assert job.status == "failed" and "stopped 2 times" in job.error
