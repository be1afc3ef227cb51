"""Filtered zip downloads (streamed, with a manifest) and API tokens."""
from __future__ import annotations

import csv
import io
import json

from django.test import Client
from django.urls import reverse

from accounts.tokens import issue
from catalog.models import Clip
from testing.support import fetch_zip, login


def test_zip_holds_exactly_the_filtered_clips(client, lab, talk3_dataset):
    talks = lab["talks"]
    scores = sorted(talks.clips.values_list("quality_score", flat=True))
    threshold = (scores[0] + scores[1]) / 2
    login(client, "vic")
    archive = fetch_zip(client.get(reverse("dataset_download", args=[talks.pk]), {"score_min": threshold}))
    assert archive.testzip() is None
    expected = set(talks.clips.filter(quality_score__gte=threshold).values_list("name", flat=True))
    manifest = [json.loads(line) for line in archive.read("talks/manifest.jsonl").decode().splitlines()]
    assert {m["clip"] for m in manifest} == expected and len(manifest) == 2
    rows = list(csv.DictReader(io.StringIO(archive.read("talks/manifest.csv").decode())))
    assert [r["clip"] for r in rows] == [m["clip"] for m in manifest]
    selection = json.loads(archive.read("talks/selection.json"))
    assert selection["clips"] == 2 and selection["filter"]["score_min"] == threshold
    for m in manifest:  # each video a make_dataset folder: clips/<clip>.mp4, data/<clip>_*
        names = [n for n in archive.namelist() if n.startswith(m["folder"] + "/") and f"/{m['clip']}" in n]
        assert len(names) == 8  # video, wav, csv, qc csv, npz, mask, face data, metadata
        for entry in m["files"].values():
            original = talk3_dataset.root / entry["path"]
            assert archive.read(f"{m['folder']}/{entry['path']}") == original.read_bytes()


def test_choose_files_and_safe_names(client, lab):
    talks = lab["talks"]
    Clip.objects.filter(dataset=talks).update(source_name="../../etc/pass wd.mp4")
    login(client, "vic")
    archive = fetch_zip(client.get(reverse("dataset_download", args=[talks.pk]), {"files": "blendshapes,video"}))
    for name in archive.namelist():
        assert not name.startswith("/") and ".." not in name.split("/") and " " not in name
    clip_files = [n for n in archive.namelist() if "/clip_" in n]
    assert len(clip_files) == 6 and all(n.endswith((".csv", ".mp4")) for n in clip_files)


def test_videos_with_the_same_name_do_not_overwrite_each_other(client, lab, talk3_dataset, tmp_path):
    """talk3.mp4 imported twice (as a second upload of the same file would be): six clips, six folders."""
    import shutil

    from catalog.importer import import_folder

    copy = tmp_path / "again"
    shutil.copytree(talk3_dataset.root, copy)
    import_folder(lab["talks"], copy)
    login(client, "vic")
    archive = fetch_zip(client.get(reverse("dataset_download", args=[lab["talks"].pk]), {"files": "blendshapes"}))
    names = archive.namelist()
    assert len(names) == len(set(names)), "duplicate entry names would overwrite each other on unzip"
    manifest = [json.loads(line) for line in archive.read("talks/manifest.jsonl").decode().splitlines()]
    assert len(manifest) == 6 and len({m["folder"] for m in manifest}) == 2
    second = lab["talks"].videos.get(output_dir=str(copy.resolve()))
    assert {m["folder"].rsplit("/", 1)[1] for m in manifest} == {"talk3", f"talk3_video{second.pk}"}


def test_missing_files_are_listed_not_dropped_silently(client, lab):
    talks = lab["talks"]
    clip = talks.clips.order_by("name").first()
    moved = clip.file_path("audio").with_suffix(".moved")
    clip.file_path("audio").rename(moved)
    try:
        login(client, "vic")
        archive = fetch_zip(client.get(reverse("dataset_download", args=[talks.pk]), {"files": "audio,video"}))
    finally:
        moved.rename(clip.file_path("audio"))
    selection = json.loads(archive.read("talks/selection.json"))
    assert selection["missing_files"] == [f"talks/talk3/data/{clip.name}_audio.wav"]
    assert len([n for n in archive.namelist() if n.endswith(".wav")]) == 2


def test_token_download_and_scope(lab):
    talks, other = lab["talks"], lab["other"]
    key = issue(lab["users"]["vic"], "script")
    script = Client()
    archive = fetch_zip(script.get(reverse("dataset_download", args=[talks.pk]), HTTP_AUTHORIZATION=f"Token {key}"))
    assert "talks/manifest.jsonl" in archive.namelist()
    # a token of another team's member cannot reach this dataset
    outsider = issue(lab["users"]["bob"], "theirs")
    assert script.get(reverse("dataset_download", args=[talks.pk]), HTTP_AUTHORIZATION=f"Token {outsider}").status_code == 404
    assert script.get(reverse("dataset_download", args=[other.pk]), HTTP_AUTHORIZATION=f"Token {key}").status_code == 404
    assert script.get(reverse("dataset_download", args=[talks.pk]), HTTP_AUTHORIZATION="Token wrong").status_code == 401
    write = script.post(reverse("clip_update", args=[talks.clips.first().pk]), {"action": "reject"},
                        HTTP_AUTHORIZATION=f"Token {key}")
    assert write.status_code == 403
    assert not talks.clips.filter(rejected=True).exists()


def files_under(folder) -> set:
    from pathlib import Path

    return {p for p in Path(folder).rglob("*") if p.is_file() and ".sqlite3" not in p.name and "cache" not in p.parts}


def test_interrupted_download_leaves_nothing(client, lab, settings, talk3_dataset):
    before = files_under(settings.DATA_DIR) | files_under(talk3_dataset.root)
    login(client, "vic")
    response = client.get(reverse("dataset_download", args=[lab["talks"].pk]))
    stream = iter(response.streaming_content)
    first = next(stream)
    assert first[:2] == b"PK"  # bytes flow before the zip is complete
    response.close()  # the client hangs up
    import threading

    assert not [t for t in threading.enumerate() if t.name == "zip-read-ahead" and t.is_alive()]
    assert files_under(settings.DATA_DIR) | files_under(talk3_dataset.root) == before


def test_tokens_page_creates_and_revokes(client, lab):
    login(client, "vic")
    page = client.post(reverse("token_create"), {"name": "laptop"}, follow=True).content.decode()
    assert "shown once" in page
    token = lab["users"]["vic"].api_tokens.get()
    client.post(reverse("token_revoke", args=[token.pk]))
    assert not lab["users"]["vic"].api_tokens.exists()
