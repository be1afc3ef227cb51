"""Issue #21: one shot per clip.  Edits built from the shared recordings: a hard cut and a cross-fade inside one
speech run split it; a zoom and pan with a white flash does not; talk3's known cut is found at its frame."""
from __future__ import annotations

import av
import pytest

from pipeline.audio.segment import SegmentParams
from pipeline.dataset.build import DatasetParams, build_dataset
from testing.media_factory import join_talks, second_face_beside, transformed_talk

ONE_RUN = DatasetParams(segment=SegmentParams(min_clip=2.0, max_gap=1.5, max_clip=30.0))
AOC, KH = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4", "hdtf_WDA_KatieHill_000.mp4"


def frame_times(path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None]


@pytest.mark.slow
def test_a_speech_run_across_a_hard_cut_becomes_two_clips_of_one_face_each(media, tmp_path):
    joined, cut = join_talks(media(AOC), media(KH), tmp_path / "cut.mp4")
    result = build_dataset(joined, tmp_path / "out", ONE_RUN, workers=2)
    assert [c["clip"] for c in result.clips] == ["clip_0000", "clip_0000_1"]
    first, second = result.clips
    assert first["source_end_s"] <= cut + 1e-6 and second["source_start_s"] == pytest.approx(cut, abs=1e-6)
    for clip in result.clips:
        assert clip["face_frames"] >= 0.95 * clip["frames"] and clip["shot"]["part_of"]["clip"] == "clip_0000"
    assert [b["kind"] for b in result.report["shots"]["boundaries"]] == ["cut"]
    assert result.report["shots"]["boundaries"][0]["start_s"] == pytest.approx(cut, abs=1e-6)
    # a rerun finds the split span complete: nothing is cut again
    again = build_dataset(joined, tmp_path / "out", ONE_RUN, workers=2)
    assert again.skipped == 1 and [c["clip"] for c in again.clips] == ["clip_0000", "clip_0000_1"]


@pytest.mark.slow
def test_a_cross_fade_is_in_neither_clip(media, tmp_path):
    joined, fade_start = join_talks(media("retalk_face2.mp4"), media("retalk_face3.mp4"), tmp_path / "fade.mp4", 1.0)
    result = build_dataset(joined, tmp_path / "out", ONE_RUN, workers=2)
    assert len(result.clips) == 2
    first, second = result.clips
    assert first["source_end_s"] <= fade_start + 1e-6  # ends before the fade ...
    assert second["source_start_s"] >= fade_start + 1.0 - 1e-6  # ... and the next starts after it
    assert [b["kind"] for b in result.report["shots"]["boundaries"]] == ["gradual"]


@pytest.mark.slow
def test_a_zoom_pan_and_a_white_flash_do_not_split_and_a_pasted_second_face_is_flagged(media, tmp_path):
    moved = transformed_talk(media(KH), tmp_path / "moved.mp4", "zoom_flash")
    result = build_dataset(moved, tmp_path / "moved", ONE_RUN, workers=2)
    assert len(result.clips) == 1 and not result.report["shots"]["boundaries"]
    pasted = second_face_beside(media(AOC), media("retalk_face2.mp4"), tmp_path / "two.mp4")
    two = build_dataset(pasted, tmp_path / "two", ONE_RUN, workers=2)
    assert two.clips and all(c["quality"]["multi_face_rate"] > 0.5 for c in two.clips)
    assert all(any("second face" in r for r in c["quality_reasons"]) for c in two.clips)


def test_talk3s_cut_is_found_at_its_frame_and_no_clip_spans_a_boundary(media, talk3_dataset):
    times = sorted(frame_times(media("talk3.mp4")))
    shots = talk3_dataset.report["shots"]["boundaries"]
    assert any(b["kind"] == "cut" and b["start_s"] == pytest.approx(times[184], abs=1e-6) for b in shots), shots
    assert all(b["start_s"] != pytest.approx(times[183], abs=1e-6) for b in shots)
    for clip in talk3_dataset.clips:
        for b in shots:
            assert b["end_s"] <= clip["source_start_s"] + 1e-6 or b["start_s"] >= clip["source_end_s"] - 1e-6, (clip["clip"], b)


def test_parts_dropped_at_a_shot_change_are_told_apart_from_short_speech_in_the_recommendations():
    from pipeline.dataset.report import recommendations
    from pipeline.dataset.shot_split import part_spans
    from pipeline.media.shots import Boundary

    kept, dropped = part_spans([Boundary(kind="cut", first=270, last=269, start_s=10.8, end_s=10.8, strength=1.0)], 10.0, 20.0, min_clip=2.0)
    assert kept == [(10.8, 20.0)] and [d["cause"] for d in dropped] == ["shot_change"]
    short = {"start_s": 30.0, "end_s": 30.5, "duration_s": 0.5, "reason": "shorter than min_clip"}
    tips = recommendations([], [], [*dropped, short], ONE_RUN)
    assert any("1 part(s) of speech runs (0.8 s) were dropped at shot changes" in t for t in tips)
    assert any("1 speech segment(s) (0.5 s) were shorter than min_clip" in t for t in tips)


@pytest.mark.slow
def test_sides_of_a_hard_cut_keep_the_spans_one_decode_and_equal_mediapipe_from_their_first_frame(media, tmp_path):
    """The span is decoded and tracked once: the tracker starts again at the cut seen while decoding, so the
    second side's rows are bare MediaPipe's from its own first frame (and one frame off they are not), and each
    side's clip file holds exactly its own frames."""
    from pipeline.dataset.tests.test_faithful_data import bare_mediapipe, clip_rows, max_difference, source_frames

    joined, cut = join_talks(media(AOC), media(KH), tmp_path / "cut.mp4")
    result = build_dataset(joined, tmp_path / "out", ONE_RUN, workers=1)
    assert [c["shot"]["part_of"]["tracking"] for c in result.clips] == ["span", "span"]
    frames = source_frames(joined)
    for clip in result.clips:
        span = [(t, rgb) for t, rgb in frames if clip["source_start_s"] - 1e-6 <= t < clip["source_end_s"] - 1e-6]
        times, ours = clip_rows(result.root, clip["clip"])
        assert len(times) == len(span) == clip["frames"]
        reference = bare_mediapipe(span)
        assert max_difference(ours, reference) <= 1e-4
        assert max_difference(ours[1:], reference[:-1]) > 1e-3
        with av.open(str(result.root / "clips" / f"{clip['clip']}.mp4")) as container:
            decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(decoded) == clip["frames"]
        # the file's first picture is the side's first source frame, not the one across the cut
        first = span[0][1].astype(float)
        before = [rgb for t, rgb in frames if t < clip["source_start_s"] - 1e-6]
        own = abs(decoded[0].astype(float) - first[: decoded[0].shape[0], : decoded[0].shape[1]]).mean()
        assert own < 4.0
        if clip["clip"] == "clip_0000_1":
            across = abs(decoded[0].astype(float) - before[-1].astype(float)[: decoded[0].shape[0], : decoded[0].shape[1]]).mean()
            assert across > 5 * own
