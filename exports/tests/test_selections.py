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
    folders = json.loads(first.read(next(n for n in first.namelist() if n.endswith("selection.json"))))["folders"]
    top = first.namelist()[0].split("/")[0]
    for entry in frozen:  # every frozen file is in the zip, at its manifest path inside its video's folder
        folder = f"{top}/{folders[str(entry['video_id'])]}"
        for role, f in entry["files"].items():
            assert hashlib.sha256(first.read(f"{folder}/{f['path']}")).hexdigest() == f["sha256"], (entry["clip"], role)
        assert json.loads(first.read(f"{folder}/data/{entry['clip']}_metadata.json"))["clip"] == entry["clip"]

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
    assert not any(f"/{clips[2].name}" in n for n in later.namelist())
    assert any(f"/{clips[0].name}" in n for n in later.namelist())  # rejected since: still in what was cited
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


def test_every_zip_has_one_layout_each_video_a_make_dataset_folder(client, lab):
    """Issue #25 (10): the filtered zip and a selection's zip name their video folders alike, lay each out as
    make_dataset does (the paths of each clip's metadata and of the frozen manifest are inside it), and both
    carry every clip's metadata.json."""
    from testing.support import fetch_zip

    talks = lab["talks"]
    login(client, "ana")
    client.post(reverse("selection_create", args=[talks.pk]), {"selection_name": "all"})
    selection = download(client, Selection.objects.get())
    filtered = fetch_zip(client.get(reverse("dataset_download", args=[talks.pk])))

    def inside_video_folders(archive):
        names = archive.namelist()
        top = names[0].split("/")[0]
        return {n.split("/", 2)[2] for n in names if n.count("/") >= 3}, {n.split("/")[1] for n in names if n.count("/") >= 3}

    paths_s, folders_s = inside_video_folders(selection)
    paths_f, folders_f = inside_video_folders(filtered)
    assert folders_s == folders_f == {"talk3"} and paths_s == paths_f
    root = talks.videos.get().root
    on_disk = {str(p.relative_to(root)) for p in (root / "clips").iterdir()} | {
        str(p.relative_to(root)) for p in (root / "data").iterdir()}
    assert paths_s <= on_disk and {f"data/{c}_metadata.json" for c in talks.clips.values_list("name", flat=True)} <= paths_s
