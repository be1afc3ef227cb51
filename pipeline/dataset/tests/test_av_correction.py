"""Issue #20 (4): with correct_av_offset, a recording with a reliable A/V offset gets clips whose audio is shifted
by it (wav, the mp4's audio track, the features), recorded in the metadata, and in sync when measured again."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.audio.segment import SegmentParams
from pipeline.audio.track import decode_audio
from pipeline.dataset.build import DatasetParams, build_dataset
from pipeline.dataset.clip_files import load_complete_metadata, ClipFiles
from testing.media_factory import delay_audio

FACE = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4"
ONE_CLIP = SegmentParams(min_clip=3.0, max_clip=20.0, max_gap=1.5)


def lag_ms(a: np.ndarray, b: np.ndarray, rate: int, max_ms: float = 600.0) -> float:
    """How much later ``b`` has ``a``'s content (ms), by cross-correlating their envelopes."""
    hop = rate // 100
    env = [np.log1p(np.abs(x[: x.size // hop * hop]).reshape(-1, hop).mean(1) * 100) for x in (a, b)]
    n = min(e.size for e in env)
    x, y = (e[:n] - e[:n].mean() for e in env)
    lags = range(-int(max_ms / 10), int(max_ms / 10) + 1)
    score = [np.dot(x[max(0, -k): n - max(0, k)], y[max(0, k): n - max(0, -k)]) for k in lags]
    return 10.0 * lags[int(np.argmax(score))]


@pytest.mark.slow
def test_a_delayed_recording_is_corrected_back_to_the_mouth(media, tmp_path):
    delayed = delay_audio(media(FACE), tmp_path / "late.mp4", 200)
    params = DatasetParams(segment=ONE_CLIP, correct_av_offset=True)
    result = build_dataset(delayed, tmp_path / "out", params, workers=1)
    sync = result.report["lip_sync"]
    before = sync["before_correction"]
    # measured: the genuine recording's own offset (about +100 ms) plus the 200 ms delay
    assert before["verdict"] == "offset" and before["offset_ms"] == pytest.approx(300, abs=60)
    assert sync["corrected_ms"] == before["offset_ms"]
    # measured again after the correction: in sync, within 40 ms of zero
    assert sync["verdict"] == "in_sync" and abs(sync["offset_ms"]) <= 40
    [clip] = result.clips
    assert clip["av_offset_correction_ms"] == before["offset_ms"] and clip["lip_sync"]["verdict"] == "in_sync"
    lo, hi = clip["audio"]["source_span_s"]
    assert lo - clip["source_start_s"] == pytest.approx(before["offset_ms"] / 1000, abs=1e-6)
    # the wav is the delayed source's audio of the shifted span, sample for sample
    files = ClipFiles(result.root, clip["clip"])
    wav = decode_audio(files.audio)
    source = decode_audio(delayed)
    expected = source.slice(lo, hi)
    assert wav.samples.size == expected.size and np.abs(wav.samples - expected).max() < 1e-4
    # ... which is the original recording's audio moved by its own offset only (the 200 ms delay is undone)
    original = decode_audio(media(FACE)).slice(clip["source_start_s"], clip["source_end_s"])
    assert abs(lag_ms(original, wav.samples, wav.sample_rate) + (before["offset_ms"] - 200)) <= 40
    # the mp4's audio track is the same shifted audio; its video is untouched
    track = decode_audio(files.video)
    assert abs(track.duration_s - clip["duration_s"]) < 0.05
    assert abs(lag_ms(wav.samples, track.slice(0, clip["duration_s"]), wav.sample_rate)) <= 20
    with np.load(files.audio_features) as npz:
        assert npz["rms"].shape[0] == clip["frames"]
    # the metadata lists the new files: the clip is complete, and a rerun neither corrects twice nor rebuilds
    meta = json.loads(files.metadata.read_text())
    assert load_complete_metadata(files, meta["params_key"]) is not None
    again = build_dataset(delayed, tmp_path / "out", params, workers=1)
    assert again.skipped == 1 and again.clips[0]["av_offset_correction_ms"] == before["offset_ms"]
    assert again.report["lip_sync"]["verdict"] == "in_sync"


def test_no_correction_without_a_reliable_offset():
    from pipeline.dataset.av_correction import correction_for

    assert correction_for(None) is None
    assert correction_for({"verdict": "too_short", "offset_ms": None}) is None
    assert correction_for({"verdict": "in_sync", "offset_ms": 0.0}) is None
    assert correction_for({"verdict": "offset", "offset_ms": -140.0}) == -140.0
