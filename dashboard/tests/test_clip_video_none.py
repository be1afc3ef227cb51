"""#24: clip_video none: no clip mp4 is encoded, every other file is the same as with one; the viewer plays the
recording at the clip's span, the thumbnail comes from the recording, downloads say the video was not kept, and
layouts that need the clip's frames leave such clips out saying why."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from pipeline.audio.segment import SegmentParams
from pipeline.dataset.build import DatasetParams, build_dataset
from testing.support import login

PARAMS = DatasetParams(segment=SegmentParams(min_clip=2.0, max_gap=1.5))


@pytest.fixture(scope="module")
def no_video(media, tmp_path_factory):
    from dataclasses import replace

    return build_dataset(media("talk3.mp4"), tmp_path_factory.mktemp("novideo") / "talk3",
                         replace(PARAMS, clip_video="none"), workers=2)


def test_no_mp4_and_the_same_data_as_with_one(no_video, talk3_dataset):
    root = no_video.root
    assert not list((root / "clips").glob("*.mp4"))
    assert [c["clip"] for c in no_video.clips] == [c["clip"] for c in talk3_dataset.clips]
    for mine, theirs in zip(no_video.clips, talk3_dataset.clips):
        assert "video" not in mine["files"] and "video" in theirs["files"]
        for role in ("blendshapes", "audio", "face", "quality_mask"):
            assert mine["files"][role]["sha256"] == theirs["files"][role]["sha256"], role
        assert mine["frames"] == theirs["frames"] and mine["audio"]["padded_s"] == theirs["audio"]["padded_s"]


def test_the_viewer_plays_the_recording_and_downloads_say_why(client, upload_lab, no_video, media):
    from catalog.importer import import_folder
    from catalog.models import Video

    dataset = upload_lab["dataset"]
    import_folder(dataset, no_video.root)
    video = dataset.videos.get()
    Video.objects.filter(pk=video.pk).update(source_path=str(media("talk3.mp4")), params={"clip_video": "none"})
    clip = dataset.clips.order_by("name")[1]
    login(client, "vic")
    page = client.get(reverse("clip_detail", args=[clip.pk])).content.decode()
    recording = reverse("video_recording", args=[video.pk])
    assert f'src="{recording}#t=' in page and f'data-offset="{clip.source_start_s:f}"' in page
    assert 'id="no-clip-video"' in page
    ranged = client.get(recording, HTTP_RANGE="bytes=0-99")
    assert ranged.status_code == 206 and ranged["Content-Type"] == "video/mp4"
    assert len(b"".join(ranged.streaming_content)) == 100
    thumb = client.get(reverse("clip_thumbnail", args=[clip.pk]))
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(
        client.get(reverse("dataset_download", args=[dataset.pk])).streaming_content)))
    line = json.loads(next(n for n in archive.read(next(x for x in archive.namelist()
                                                        if x.endswith("manifest.jsonl"))).decode().splitlines()))
    assert line["absent"] == ["video"] and "clip_video none" in line["absent_why"]["video"]
    # another team cannot fetch the recording
    login(client, "bob")
    assert client.get(recording).status_code == 404


def test_musetalk_leaves_out_a_clip_without_its_video(no_video, tmp_path):
    from pipeline.training.trainer_layouts import LayoutOptions, layout_entries
    from pipeline.training.training_export import assign_splits, clips_from_folder, write_export

    clips = clips_from_folder(no_video.root)
    out = write_export(layout_entries("musetalk", clips, assign_splits({c.video for c in clips}), LayoutOptions()),
                       tmp_path / "m")
    info = json.loads((out / "export.json").read_text())
    assert len(info["left_out"]) == 3 and all("clip_video none" in e["problem"] for e in info["left_out"])
