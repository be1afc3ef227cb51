"""Frozen selections: what a paper cites stays the same after the dataset changes."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from django.urls import reverse

from catalog.models import Clip
from exports.models import Selection
from testing.support import login


def download(client, selection: Selection) -> zipfile.ZipFile:
    response = client.get(reverse("selection_download", args=[selection.key]))
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_a_frozen_selection_does_not_change_when_the_dataset_does(client, lab):
    talks = lab["talks"]
    login(client, "ana")
    response = client.post(reverse("selection_create", args=[talks.pk]),
                           {"selection_name": "paper v1", "score_min": "0", "sort": "name"})
    selection = Selection.objects.get()
    assert response.url == reverse("selection_detail", args=[selection.key])
    assert selection.clip_count == 3 and selection.filter["score_min"] == 0.0
    first = download(client, selection)
    manifest = first.read(next(n for n in first.namelist() if n.endswith("manifest.json")))
    assert manifest == selection.manifest.encode()
    assert hashlib.sha256(manifest).hexdigest() == selection.manifest_sha256
    frozen = json.loads(manifest)["clips"]
    for entry in frozen:  # every frozen file is in the zip with the frozen sha256
        for role, f in entry["files"].items():
            name = next(n for n in first.namelist() if n.endswith("/" + f["path"].rsplit("/", 1)[1])
                        and f"/{entry['clip']}/" in n)
            assert hashlib.sha256(first.read(name)).hexdigest() == f["sha256"], (entry["clip"], role)

    # the dataset moves on: re-scored, re-tagged, a clip rejected, another deleted
    clips = list(talks.clips.order_by("name"))
    Clip.objects.filter(pk=clips[0].pk).update(quality_score=1.0, rejected=True)
    clips[1].tags.add(talks.tags.create(name="later"))
    Clip.objects.filter(pk=clips[2].pk).delete()
    later = download(client, selection)
    assert later.read(next(n for n in later.namelist() if n.endswith("manifest.json"))) == manifest
    about = json.loads(later.read(next(n for n in later.namelist() if n.endswith("selection.json"))))
    assert about["manifest_sha256"] == selection.manifest_sha256
    assert [m["clip"] for m in about["missing"]] == [clips[2].name]  # listed, not silently dropped
    assert not any(f"/{clips[2].name}/" in n for n in later.namelist())
    assert any(f"/{clips[0].name}/" in n for n in later.namelist())  # rejected since: still in what was cited
    page = client.get(reverse("selection_detail", args=[selection.key])).content.decode()
    assert selection.manifest_sha256 in page and 'id="selection-missing"' in page


def test_who_may_save_and_see_selections(client, lab):
    talks = lab["talks"]
    login(client, "vic")
    assert client.post(reverse("selection_create", args=[talks.pk]), {"selection_name": "x"}).status_code == 403
    login(client, "ana")
    client.post(reverse("selection_create", args=[talks.pk]), {"selection_name": "all"})
    selection = Selection.objects.get()
    login(client, "vic")
    assert client.get(reverse("selection_detail", args=[selection.key])).status_code == 200
    login(client, "bob")
    assert client.get(reverse("selection_detail", args=[selection.key])).status_code == 404
    assert client.get(reverse("selection_download", args=[selection.key])).status_code == 404
    login(client, "ana")
    bad = client.post(reverse("selection_create", args=[talks.pk]), {"selection_name": "y", "score_min": "lots"},
                      follow=True)
    assert "Not saved" in bad.content.decode() and Selection.objects.count() == 1


def test_a_selection_downloads_for_training_with_what_changed_listed(client, lab, tmp_path):
    from pipeline.training.training_data import TrainingExport

    talks = lab["talks"]
    login(client, "ana")
    client.post(reverse("selection_create", args=[talks.pk]), {"selection_name": "v1"})
    selection = Selection.objects.get()
    gone = talks.clips.order_by("name").last()
    Clip.objects.filter(pk=gone.pk).delete()
    response = client.get(reverse("selection_training_download", args=[selection.key]))
    assert response.status_code == 200
    zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).extractall(tmp_path)
    export = TrainingExport(next(tmp_path.iterdir()))
    assert set(export.frames(["clip_id"])["clip_id"].to_pylist()) == set(talks.clips.values_list("pk", flat=True))
    assert export.info["selection_manifest_sha256"] == selection.manifest_sha256
    assert [m["clip"] for m in export.info["selection_missing"]] == [gone.name]
