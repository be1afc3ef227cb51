"""QC a researcher can curate by, on real recordings: tracking jitter, mouth activity, lip sync, visual metrics,
the repair of glitches, and a score that ranks a clean talking face above a mismatched or a silent one."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.audio.segment import SegmentParams
from pipeline.audio.track import decode_audio
from pipeline.dataset.build import DatasetParams, build_dataset
from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
from pipeline.face.extract import track_frames
from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.face.landmarks import FaceLandmarkTracker
from pipeline.media.decode import VideoFrameReader
from pipeline.quality.qc import BLINKS, replace_outliers
from pipeline.quality.quality import tracking_jitter
from pipeline.quality.scoring import PRESETS, score, validate_weights
from testing.media_factory import mux_video_with_audio, still_face_with_speech

SR = 16000
SPEAKERS = ["retalk_face1.mp4", "retalk_face2.mp4", "retalk_face3.mp4"]


@pytest.fixture(scope="module")
def tracked(media):
    """name -> (times, raw blendshapes, lip gap, 16 kHz audio) from one tracking pass over the file."""
    cache = {}

    def get(name: str):
        if name not in cache:
            with FaceLandmarkTracker() as tracker:
                records = list(track_frames(VideoFrameReader(media(name)), tracker))
            times = np.array([r.time_s for r in records])
            raw = np.array([r.blendshapes if r.face else np.full(52, np.nan) for r in records])
            gap = np.array([r.geometry[GEOMETRY_NAMES.index("lip_gap")] if r.face else np.nan for r in records])
            cache[name] = (times, raw, gap, decode_audio(media(name)))
        return cache[name]

    return get


def valid_rows(raw: np.ndarray) -> np.ndarray:
    return ~np.isnan(raw).any(axis=1)


# --- tracking jitter ---------------------------------------------------------------------------------------------

def still_twin(raw: np.ndarray) -> np.ndarray:
    """The same tracking noise without the motion: each curve's 5-frame moving average (its movement) replaced by
    its mean, the residual (what tracking adds frame to frame, plus the fastest part of real motion) kept."""
    kernel = np.ones(5) / 5
    out = raw.copy()
    for c in range(raw.shape[1]):
        column = raw[:, c]
        motion = np.convolve(np.pad(column, 2, mode="edge"), kernel, mode="valid")
        out[:, c] = np.nanmean(column) + (column - motion)
    return out


def test_jitter_measures_tracking_noise_not_motion(tracked):
    for name in SPEAKERS:
        raw = tracked(name)[1]
        valid = valid_rows(raw)
        raw = np.where(valid[:, None], raw, np.nanmean(raw, axis=0))
        still = still_twin(raw)
        talking_jitter, still_jitter = tracking_jitter(raw, valid), tracking_jitter(still, valid)
        assert 0.67 < still_jitter / talking_jitter < 1.5, (name, talking_jitter, still_jitter)
        livelier = raw + (raw - still)  # twice the movement, the same noise
        assert 0.67 < tracking_jitter(livelier, valid) / talking_jitter < 1.5, name
        noisy = raw + np.random.default_rng(0).normal(0, 0.01, raw.shape)
        assert tracking_jitter(noisy, valid) > 2.0 * talking_jitter


# --- outlier repair ----------------------------------------------------------------------------------------------

def test_real_fast_movements_survive_and_glitches_do_not(tracked, talk3_dataset):
    for name in SPEAKERS + ["pyfeat_WolfgangLanger_Pexels.mp4", "talk3.mp4"]:
        times, raw, _, _ = tracked(name)
        valid = valid_rows(raw)
        _, replaced = replace_outliers(raw, valid, times, exempt=BLINKS)
        assert replaced == 0, f"{name}: {replaced} real values replaced"
    times, raw, _, _ = tracked("retalk_face2.mp4")
    valid = valid_rows(raw)
    broken = raw.copy()
    pucker = MEDIAPIPE_NAMES.index("mouthPucker")
    frame = int(np.flatnonzero(valid)[40])
    broken[frame, pucker] = min(broken[frame - 1, pucker], broken[frame + 1, pucker]) + 0.8
    fixed, replaced = replace_outliers(broken, valid, times, exempt=BLINKS)
    assert replaced == 1 and abs(fixed[frame, pucker] - raw[frame, pucker]) < 0.1
    for clip in talk3_dataset.clips:
        assert clip["quality"]["outliers_replaced"] == 0


# --- visual metrics ----------------------------------------------------------------------------------------------

def test_visual_metrics_follow_the_picture(media):
    import cv2

    from pipeline.quality.visual_qc import FaceCounter, face_crop_stats

    with FaceLandmarkTracker() as tracker:
        frame = next(iter(VideoFrameReader(media("retalk_face2.mp4"))))
        result = tracker.detect(frame.rgb, 0)
        tracker.restart()
        half = np.ascontiguousarray(cv2.resize(frame.rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
        small = tracker.detect(half, 0)
    size = GEOMETRY_NAMES.index("interocular_px")
    assert small.geometry[size] == pytest.approx(0.5 * result.geometry[size], rel=0.1)
    sharp, light = face_crop_stats(frame.rgb, result.geometry[2:6])
    blurred = cv2.GaussianBlur(frame.rgb, (0, 0), 3)
    assert face_crop_stats(blurred, result.geometry[2:6])[0] < 0.3 * sharp
    assert face_crop_stats((frame.rgb * 0.4).astype(np.uint8), result.geometry[2:6])[1] < 0.5 * light
    counter = FaceCounter()
    pair = np.zeros((half.shape[0] * 2, half.shape[1] * 2, 3), np.uint8)
    pair[half.shape[0] // 2: half.shape[0] // 2 + half.shape[0], : half.shape[1]] = half
    pair[half.shape[0] // 2: half.shape[0] // 2 + half.shape[0], half.shape[1]:] = half
    assert counter.count(frame.rgb) == 1 and counter.count(pair) == 2


# --- the score on real media -------------------------------------------------------------------------------------

SHORT = DatasetParams(segment=SegmentParams(min_clip=1.0, max_gap=1.5))


@pytest.mark.slow
def test_score_ranks_talking_above_mismatched_and_silent_faces(media, tmp_path):
    genuine = build_dataset(media("retalk_face2.mp4"), tmp_path / "genuine", SHORT, workers=2)
    other = mux_video_with_audio(media("retalk_face2.mp4"), media("retalk_face1.mp4"), tmp_path / "face2_voice1.mp4")
    mismatched = build_dataset(other, tmp_path / "mismatched", SHORT, workers=2)
    still = still_face_with_speech(media("retalk_face2.mp4"), media("retalk_face2.mp4"), tmp_path / "still.mp4", 5.0)
    silent = build_dataset(still, tmp_path / "silent", SHORT, workers=2)
    [g] = genuine.clips
    assert g["lip_sync"]["verdict"] != "mismatch" and g["face_speaking"] is True
    for result in (mismatched, silent):
        assert result.clips
        for clip in result.clips:
            assert clip["quality_score"] < g["quality_score"], (clip["clip"], clip["quality_reasons"])
    # 5 s cannot prove the other speaker's audio foreign (issue #20: too short, with the length that would), so
    # it loses on its lower confidence only; the face that does not articulate is gated far below
    for clip in silent.clips:
        assert clip["quality_score"] < g["quality_score"] - 5, (clip["clip"], clip["quality_reasons"])
    for clip in silent.clips:
        assert clip["face_speaking"] is False and "face not speaking during speech" in clip["quality_reasons"]
        assert clip["quality_score"] <= 20  # issue #20 (7): gated, below every genuine clip
        assert clip["quality"]["jitter"] < g["quality"]["jitter"] * 3  # a still face is not "cleaner" by much
        # the seed's formula ranked the motionless face first: the reason for this issue
        assert score(clip["quality"], PRESETS["seed"]) > score(g["quality"], PRESETS["seed"])
    for clip in mismatched.clips:
        assert clip["lip_sync"]["verdict"] != "in_sync"
    metadata = json.loads((genuine.root / "data" / f"{g['clip']}_metadata.json").read_text())
    for key in ("jitter", "mouth_activity", "interocular_px", "yaw_max_abs", "pitch_max_abs", "sharpness",
                "brightness", "multi_face_rate", "lip_sync_confidence"):
        assert metadata["quality"][key] is not None, key
    assert set(metadata["lip_sync"]) >= {"offset_ms", "confidence", "verdict"}
    line = json.loads((genuine.root / "manifest.jsonl").read_text().splitlines()[0])
    assert line["lip_sync"]["verdict"] == g["lip_sync"]["verdict"] and line["face_speaking"] is True


def test_weights_are_validated():
    validate_weights({"lip_sync": 1, "valid_rate": 0})
    for bad in ({"nope": 1}, {"lip_sync": -1}, {"lip_sync": float("nan")}, {"lip_sync": 0}):
        with pytest.raises(ValueError):
            validate_weights(bad)


def test_a_clip_whose_audio_does_not_match_or_whose_face_does_not_speak_is_capped_whatever_else():
    """Issue #20 (7): gates cap the score at 20 (and say so first), while their component has a weight."""
    from pipeline.quality.scoring import GATE_CAP, gated, reasons

    perfect = {"valid_rate": 1.0, "jitter": 0.0, "range_validity": 1.0, "lip_sync_verdict": "in_sync",
               "lip_sync_confidence": 9.0, "face_speaking": True, "interocular_px": 90.0, "sharpness": 300.0,
               "multi_face_rate": 0.0, "yaw_max_abs": 5.0, "pitch_max_abs": 5.0, "brightness": 120.0}
    assert score(perfect) > 95 and gated(perfect) == []
    for change, gate in (({"lip_sync_verdict": "mismatch"}, "lip_sync"), ({"face_speaking": False}, "face_speaking")):
        bad = {**perfect, **change}
        assert gated(bad) == [gate] and score(bad) == GATE_CAP
        assert reasons(bad)[0] == "score capped at 20: unusable for audio-to-face training"
        assert score(bad, {gate: 0, "valid_rate": 1}) == 100.0  # a lab that does not weigh it is not capped
    assert score({**perfect, "lip_sync_verdict": "no_reliable_offset"}) > GATE_CAP  # unsure is not a gate
