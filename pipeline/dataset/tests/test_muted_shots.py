"""#24: muted shots: the recording's own stretches without speech, 3-30 s and clear of speech, become clips marked
muted, within the share asked for; they take no part in lip sync; without the option nothing changes."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pipeline.audio.segment import MUTED_MARGIN_S, Segmentation, Span, muted_spans
from pipeline.dataset.build import DatasetParams, build_dataset, params_key
from pipeline.audio.segment import SegmentParams
from testing.media_factory import with_pause

PARAMS = DatasetParams(segment=SegmentParams(min_clip=2.0, max_gap=1.5))
AOC = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4"


def seg(runs, clips=None) -> Segmentation:
    spans = [Span(a, b) for a, b in runs]
    return Segmentation(clips if clips is not None else spans, [], spans, 0.03, np.zeros(1, bool), None, None)


def test_stretches_between_speech_runs_with_margins_pieces_and_the_share():
    s = seg([(0.0, 10.0), (80.0, 100.0), (102.0, 130.0)])  # 58 s of speech clips
    pieces = muted_spans(s, 0.0, 135.0, 0.5)
    assert all(p.muted and 3.0 <= p.duration_s <= 30.0 for p in pieces)
    assert pieces[0].start_s == pytest.approx(10.0 + MUTED_MARGIN_S)
    # the 70 s pause is three equal pieces; the 2 s pause none; the 5 s tail one (no margin at the recording's end)
    assert [round(p.duration_s, 2) for p in muted_spans(s, 0.0, 135.0, 0.5)] == [23.0, 4.5]
    everything = muted_spans(s, 0.0, 135.0, 10.0)
    assert [round(p.duration_s, 2) for p in everything] == [23.0, 23.0, 23.0, 4.5]
    assert muted_spans(s, 0.0, 135.0, 0.0) == [] and muted_spans(s, 0.0, 135.0, 0.05) == []


@pytest.fixture(scope="module")
def pause(media, tmp_path_factory):
    """AOC's 8 s, then 5 s of the last frame over near-silence, then AOC's 8 s again."""
    return with_pause(media(AOC), tmp_path_factory.mktemp("pause") / "pause.mp4")


def test_a_pause_with_a_face_becomes_a_muted_clip_outside_the_lip_sync(pause, tmp_path):
    result = build_dataset(pause, tmp_path / "muted", replace(PARAMS, muted_shots=0.5), workers=2)
    kinds = {c["clip"]: c["kind"] for c in result.clips}
    assert kinds == {"clip_0000": "speech", "clip_0001": "speech", "clip_0002": "muted"}
    muted = next(c for c in result.clips if c["kind"] == "muted")
    speech = [c for c in result.clips if c["kind"] == "speech"]
    # 0.5 s clear of the speech runs (the speech clips' spans), within a frame
    assert muted["source_start_s"] >= speech[0]["speech_span_s"][1] + MUTED_MARGIN_S - 0.04
    assert muted["source_end_s"] <= speech[1]["speech_span_s"][0] - MUTED_MARGIN_S + 0.04
    assert muted["source_start_s"] >= speech[0]["source_end_s"]
    assert muted["face_frames"] == muted["frames"] and muted["speech_ratio"] == 0.0
    assert muted["lip_sync"]["verdict"] == "" and "muted shot" in muted["lip_sync"]["reason"]
    assert result.report["lip_sync"]["clips"] == 2 and result.report["totals"]["muted_clips"] == 1
    assert sum(c["duration_s"] for c in [muted]) <= 0.5 * sum(c["duration_s"] for c in speech)
    lines = [line for line in result.manifest if line.get("kind") == "muted"]
    assert [line["clip"] for line in lines] == ["clip_0002"]


def test_without_the_option_the_folder_is_what_it_was(pause, tmp_path):
    plain = build_dataset(pause, tmp_path / "plain", PARAMS, workers=2)
    assert [c["kind"] for c in plain.clips] == ["speech", "speech"]
    assert "muted_shots" not in PARAMS.as_dict() and "clip_video" not in PARAMS.as_dict()
    assert params_key(pause, PARAMS) != params_key(pause, replace(PARAMS, muted_shots=0.2))
