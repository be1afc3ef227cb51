"""The clip viewer page and its curves: the right frames, times, mask and features; edits; team scoping."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from django.urls import reverse

from testing.support import login


def first_clip(lab):
    return lab["talks"].clips.order_by("name").first()


def test_viewer_page_shows_video_and_qc(client, lab):
    clip = first_clip(lab)
    login(client, "vic")
    response = client.get(reverse("clip_detail", args=[clip.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'src="{reverse("clip_file", args=[clip.pk, "video"])}"' in html
    from catalog.filters import VERDICT_WORDS

    assert f"{clip.quality_score:.1f}" in html and VERDICT_WORDS[clip.lip_sync_verdict] in html
    if clip.lip_sync_offset_ms is not None:
        assert f"offset {clip.lip_sync_offset_ms:.0f} ms" in html
    assert 'id="tag-form"' not in html and 'id="reject-form"' not in html  # a viewer cannot edit
    assert 'value="jawOpen" checked' in html


def test_curves_are_the_clip_files_frame_by_frame(client, lab):
    clip = first_clip(lab)
    login(client, "ana")
    data = client.get(reverse("clip_curves", args=[clip.pk]),
                      {"curves": "jawOpen,head_yaw,noSuchCurve", "features": "rms,f0,mel,bogus", "raw": "1"}).json()
    with open(clip.file_path("blendshapes_qc"), newline="") as fh:
        qc_rows = list(csv.DictReader(fh))
    with open(clip.file_path("blendshapes"), newline="") as fh:
        raw_rows = list(csv.DictReader(fh))
    assert len(data["time_s"]) == clip.frames == len(qc_rows)
    assert data["time_s"] == [float(r["time_s"]) for r in qc_rows]
    assert data["time_s"][0] == 0.0  # clip time: the first frame is at 0 in the clip's video
    assert data["curves"]["jawOpen"] == pytest.approx([float(r["jawOpen"]) for r in qc_rows], abs=1e-5)
    assert data["raw"]["jawOpen"] == pytest.approx([float(r["jawOpen"]) for r in raw_rows], abs=1e-5)
    assert set(data["curves"]) == {"jawOpen", "head_yaw"}
    assert data["mask"] == np.load(clip.file_path("quality_mask")).tolist()
    with np.load(clip.file_path("audio_features")) as npz:
        assert data["feature_time_s"] == pytest.approx(data["time_s"], abs=1e-6)  # features sit on the frames
        assert data["features"]["rms"] == pytest.approx(npz["rms"].reshape(-1).tolist(), abs=1e-5)
        f0 = npz["f0"].reshape(-1)
        assert [v is None for v in data["features"]["f0"]] == (f0 <= 0).tolist()  # unvoiced: a gap
        assert len(data["features"]["mel"]["z"]) == npz["mel"].shape[1]
    assert "bogus" not in data["features"]


def test_tags_and_reject_from_the_viewer(client, lab):
    clip = first_clip(lab)
    url = reverse("clip_detail", args=[clip.pk])
    login(client, "ana")
    response = client.post(reverse("clip_update", args=[clip.pk]), {"action": "tag", "tag": "keeper", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert list(clip.tags.values_list("name", flat=True)) == ["keeper"]
    client.post(reverse("clip_update", args=[clip.pk]), {"action": "reject", "next": url})
    clip.refresh_from_db()
    assert clip.rejected
    assert 'id="rejected-flag"' in client.get(url).content.decode()
    client.post(reverse("clip_update", args=[clip.pk]), {"action": "untag", "tag": "keeper", "next": url})
    assert clip.tags.count() == 0
    client.logout()
    login(client, "vic")
    assert client.post(reverse("clip_update", args=[clip.pk]), {"action": "accept"}).status_code == 403


def test_other_team_cannot_see_the_clip(client, lab):
    clip = first_clip(lab)
    login(client, "bob")
    assert client.get(reverse("clip_detail", args=[clip.pk])).status_code == 404
    assert client.get(reverse("clip_curves", args=[clip.pk]), {"curves": "jawOpen"}).status_code == 404


def test_plotly_js_is_a_static_file(settings, tmp_path):
    """Served from the plotly package through the static files (whitenoise after collectstatic), never a CDN."""
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    found = finders.find("vendor/plotly.min.js")
    assert found and found.endswith("plotly.min.js")
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    collected = tmp_path / "static" / "vendor" / "plotly.min.js"
    assert collected.is_file() and collected.stat().st_size > 1_000_000
    assert json.dumps  # keep the import used for readers of the module


def test_clip_video_answers_range_requests(client, lab):
    """The player seeks with Range requests: 206 with exactly the asked bytes; 416 past the end."""
    clip = first_clip(lab)
    login(client, "vic")
    url = reverse("clip_file", args=[clip.pk, "video"])
    data = clip.file_path("video").read_bytes()
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == data[-10:]
    assert client.get(url, HTTP_RANGE=f"bytes={len(data) + 5}-").status_code == 416
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == data


def test_missing_clip_files_give_a_readable_error(client, lab, talk3_dataset, tmp_path):
    """Files deleted from disk behind the catalog's back: the page still renders, the curves answer 404 with
    the reason (the page shows it), nothing crashes."""
    import shutil

    from catalog.importer import import_folder

    folder = tmp_path / "copy"
    shutil.copytree(talk3_dataset.root, folder)
    import_folder(lab["talks"], folder)
    clip = lab["talks"].clips.filter(video__output_dir=str(folder.resolve())).order_by("name").first()
    clip.file_path("blendshapes_qc").unlink()
    clip.file_path("blendshapes").unlink()
    (folder / "data" / f"{clip.name}_metadata.json").unlink()
    login(client, "ana")
    assert client.get(reverse("clip_detail", args=[clip.pk])).status_code == 200
    response = client.get(reverse("clip_curves", args=[clip.pk]), {"curves": "jawOpen"})
    assert response.status_code == 404
    assert response.json()["error"] == f"the clip's data cannot be read: {clip.name}_blendshapes_qc.csv is missing"
    assert client.get(reverse("clip_file", args=[clip.pk, "blendshapes"])).status_code == 404


def test_the_viewer_draws_the_lip_sync_curve_against_its_null_band_and_gives_frames_both_ways(client, lab):
    """Issue #20 (5): the score of every offset searched, kept per clip, is drawn with the null band; the offset
    in frames is given in our sign and in syncnet_python's."""
    import json
    import re

    from pipeline.dataset.clip_files import ClipFiles

    clip = lab["talks"].clips.order_by("name").first()
    meta_path = ClipFiles(clip.video.root, clip.name).metadata
    original = meta_path.read_text()
    meta = json.loads(original)
    sync = meta["lip_sync"]
    assert len(sync["curve_offsets_ms"]) == len(sync["curve_scores"]) == 51  # written by make_dataset
    meta["lip_sync"].update(offset_ms=-80.0, offset_frames=-2, syncnet_offset_frames=2, null_mean=0.1, null_std=0.05)
    try:
        meta_path.write_text(json.dumps(meta))
        login(client, "vic")
        html = client.get(reverse("clip_detail", args=[clip.pk])).content.decode()
    finally:
        meta_path.write_text(original)
    figure = json.loads(re.search(r'<script id="lip-sync-figure" type="application/json">(.*?)</script>', html,
                                  re.S).group(1))
    curve = figure["data"][-1]
    assert curve["x"] == sync["curve_offsets_ms"] and curve["y"] == sync["curve_scores"]
    assert figure["data"][0]["y"][0] == pytest.approx(0.2) and figure["data"][1]["y"][0] == pytest.approx(0.0)
    assert figure["layout"]["shapes"][0]["x0"] == -80.0
    fps = f"{clip.fps:.2f}".rstrip("0").rstrip(".")
    assert (f"Offset -2 frames at {fps} fps (positive: audio late); syncnet_python's convention: 2 "
            "(positive: audio early)") in html
