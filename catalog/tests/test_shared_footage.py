"""#24: recordings that share footage are found when they are imported (as at the end of an upload's job), shown
on the video page, and put in one split group; a deleted video leaves the others' lists."""
from __future__ import annotations

import pytest
from django.urls import reverse

from pipeline.audio.segment import SegmentParams
from pipeline.dataset.build import DatasetParams, build_dataset
from testing.media_factory import head_then
from testing.support import login

SHORT = DatasetParams(segment=SegmentParams(min_clip=2.0, max_gap=1.5))
AOC, KH = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4", "hdtf_WDA_KatieHill_000.mp4"


@pytest.fixture(scope="module")
def folders(media, tmp_path_factory):
    work = tmp_path_factory.mktemp("shared")
    joined = head_then(media(AOC), media(KH), work / "aoc_then_kh.mp4", 6.6)
    return {name: build_dataset(src, work / name, SHORT, workers=2).root
            for name, src in (("aoc", media(AOC)), ("joined", joined), ("face2", media("retalk_face2.mp4")))}


def test_shared_footage_is_found_shown_and_kept_in_one_split(client, upload_lab, folders):
    from catalog.importer import import_folder
    from exports.training import dataset_splits, split_warning, video_key

    dataset = upload_lab["dataset"]
    for name in ("aoc", "joined", "face2"):
        import_folder(dataset, folders[name])
    videos = {v.source_name: v for v in dataset.videos.all()}
    aoc, joined, face2 = videos[AOC], videos["aoc_then_kh.mp4"], videos["retalk_face2.mp4"]
    assert [e["name"] for e in aoc.shared_footage] == ["aoc_then_kh.mp4"]
    assert aoc.shared_footage[0]["duration_s"] == pytest.approx(6.6, abs=0.3)
    assert [e["video"] for e in joined.shared_footage] == [aoc.pk] and face2.shared_footage == []
    login(client, "ana")
    page = client.get(reverse("video_detail", args=[joined.pk])).content.decode()
    assert 'id="shared-footage"' in page and "shares 6.6 s with" in page and AOC in page
    for seed in range(6):  # whatever the seed, the two are in one split
        splits = dataset_splits(dataset, seed)
        assert splits[video_key(aoc.pk)] == splits[video_key(joined.pk)]
    assert "2 independent recordings (3 videos, but some share footage: 2 groups)" in split_warning(list(dataset.videos.all()))
    # deleting one takes it out of the other's list
    from jobs.service import delete_video

    delete_video(joined)
    aoc.refresh_from_db()
    assert aoc.shared_footage == []
