"""Real MediaPipe on real video: face presence, timing, values, formats, smoothing."""
from __future__ import annotations

import json
import math

import av
import numpy as np
import pytest

from pipeline.face.blendshape_names import ARKIT_NAMES, MEDIAPIPE_NAMES
from pipeline.face.extract import extract_blendshapes
from testing.support import read_table

FACE_IN_EVERY_FRAME = [
    ("pyfeat_WolfgangLanger_Pexels.mp4", 472),
    ("retalk_face1.mp4", 135),
    ("retalk_face2.mp4", 125),
    ("retalk_face3.mp4", 125),
]


def column(rows, name) -> np.ndarray:
    return np.array([float(r[name]) if r[name] != "" else math.nan for r in rows])


def faces(rows) -> np.ndarray:
    return np.array([int(r["face"]) for r in rows])


def test_csv_columns_are_frame_time_face_then_model_order(extracted):
    rows, _ = extracted("retalk_face1.mp4")
    assert list(rows[0].keys()) == ["frame", "time_s", "face", *MEDIAPIPE_NAMES, "head_yaw", "head_pitch", "head_roll"]
    assert len(MEDIAPIPE_NAMES) == 52 and MEDIAPIPE_NAMES[0] == "_neutral"


@pytest.mark.slow
@pytest.mark.parametrize("name,frames", FACE_IN_EVERY_FRAME)
def test_face_found_in_every_frame(extracted, name, frames):
    rows, summary = extracted(name)
    assert len(rows) == frames
    assert faces(rows).sum() == frames, f"frames without a face: {[r['frame'] for r in rows if r['face'] == '0']}"
    assert summary.face_frames == frames


def test_no_face_video_keeps_every_frame_as_faceless_row(extracted):
    rows, _ = extracted("pyfeat_no_face.mp4")
    assert len(rows) == 95  # by decoding; the header says 98
    assert faces(rows).sum() == 0
    for row in rows:
        assert all(row[name] == "" for name in MEDIAPIPE_NAMES), "no-face rows must be empty, never zero-filled"


def test_face_disappears(extracted):
    rows, _ = extracted("pyfeat_face_noface.mov")
    face = faces(rows)
    assert len(rows) == 169
    assert face[:70].all()
    assert not face[75:160].any()


def test_face_appears(extracted):
    rows, _ = extracted("pyfeat_noface_face.mov")
    face = faces(rows)
    assert len(rows) == 169
    assert not face[:88].any()
    assert face[98:167].all()
    assert face[-1] == 0


@pytest.mark.slow
def test_talk3_face_across_hard_cuts(extracted):
    rows, summary = extracted("talk3.mp4")
    assert len(rows) == 534
    assert faces(rows).all(), "frame 184 (the hard cut) must be recovered by a fresh detection"
    assert summary.fresh_detections >= 1
    assert float(rows[184]["time_s"]) == pytest.approx(8.11, abs=0.03)


def test_times_are_the_frames_pts(media, extracted):
    rows, _ = extracted("retalk_face1.mp4")
    with av.open(str(media("retalk_face1.mp4"))) as container:
        pts = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    assert [int(r["frame"]) for r in rows] == list(range(len(pts)))
    assert column(rows, "time_s") == pytest.approx(pts, abs=1e-6)
    assert float(rows[0]["time_s"]) == pytest.approx(0.033, abs=0.001)  # this file starts at 33 ms, not 0


@pytest.mark.parametrize("name", ["retalk_face1.mp4", "pyfeat_face_noface.mov"])
def test_coefficients_lie_in_unit_interval(extracted, name):
    rows, _ = extracted(name)
    values = np.array([[float(r[n]) for n in MEDIAPIPE_NAMES] for r in rows if r["face"] == "1"])
    assert values.size
    assert np.nanmin(values) >= 0.0 and np.nanmax(values) <= 1.0
    assert not np.isnan(values).any()


@pytest.mark.parametrize("name", ["retalk_face1.mp4", "retalk_face3.mp4"])
def test_mouth_opens_and_closes_during_speech(extracted, name):
    rows, _ = extracted(name)
    jaw = column(rows, "jawOpen")
    assert jaw.max() > 0.25
    assert jaw.min() < 0.1
    assert jaw.std() > 0.04
    blink = column(rows, "eyeBlinkLeft")
    assert not np.allclose(jaw, blink), "columns must not be shifted or duplicated"


def test_head_pose_is_plausible(extracted):
    rows, _ = extracted("retalk_face2.mp4")
    for name in ("head_yaw", "head_pitch", "head_roll"):
        angles = column(rows, name)
        assert np.isfinite(angles).all()
        assert np.abs(angles).max() < 60, f"{name} is outside what a frontal talking face does"


def test_json_output(media, tmp_path, extracted):
    out = tmp_path / "face_noface.json"
    summary = extract_blendshapes(media("pyfeat_face_noface.mov"), out, fmt="json")
    doc = json.loads(out.read_text())
    assert doc["blendshape_names"] == list(MEDIAPIPE_NAMES)
    assert len(doc["frames"]) == 169 == summary.frames
    assert doc["summary"]["face_frames"] == summary.face_frames
    first, late = doc["frames"][0], doc["frames"][120]
    assert first["face"] == 1 and len(first["blendshapes"]) == 52 and len(first["head_pose"]) == 3
    assert late["face"] == 0 and late["blendshapes"] is None and late["head_pose"] is None
    csv_rows, _ = extracted("pyfeat_face_noface.mov")
    assert first["blendshapes"][MEDIAPIPE_NAMES.index("jawOpen")] == pytest.approx(float(csv_rows[0]["jawOpen"]), abs=1e-6)


def test_arkit_output(media, tmp_path, extracted):
    out = tmp_path / "face_noface_arkit.csv"
    extract_blendshapes(media("pyfeat_face_noface.mov"), out, fmt="arkit")
    rows = read_table(out)
    header = list(rows[0].keys())
    assert header[:2] == ["Timecode", "BlendShapeCount"]
    assert header[2:54] == list(ARKIT_NAMES)
    assert header[54:57] == ["HeadYaw", "HeadPitch", "HeadRoll"]
    assert len(rows) == 169
    assert all(r["TongueOut"] == "" for r in rows)
    csv_rows, _ = extracted("pyfeat_face_noface.mov")
    assert float(rows[10]["JawOpen"]) == pytest.approx(float(csv_rows[10]["jawOpen"]), abs=1e-6)
    assert float(rows[10]["EyeBlinkRight"]) == pytest.approx(float(csv_rows[10]["eyeBlinkRight"]), abs=1e-6)
    assert float(rows[10]["HeadYaw"]) == pytest.approx(math.radians(float(csv_rows[10]["head_yaw"])), abs=1e-3)
    assert rows[10]["BlendShapeCount"] == "61"
    assert rows[120]["BlendShapeCount"] == "0" and rows[120]["JawOpen"] == ""
    assert rows[0]["Timecode"] == "00:00:00:00.000"


@pytest.mark.parametrize("smooth", ["ema", "oneeuro"])
def test_smoothing_reduces_jitter(extracted, smooth):
    raw, _ = extracted("retalk_face1.mp4")
    smoothed, _ = extracted("retalk_face1.mp4", smooth)
    for name in ("eyeBlinkLeft", "jawOpen", "mouthSmileLeft"):
        jitter_raw = np.abs(np.diff(column(raw, name))).mean()
        jitter_smooth = np.abs(np.diff(column(smoothed, name))).mean()
        assert jitter_smooth < jitter_raw * 0.9
    assert faces(smoothed).sum() == faces(raw).sum()


@pytest.mark.parametrize("smooth", ["ema", "oneeuro"])
def test_smoothing_does_not_bleed_across_faceless_frames(extracted, smooth):
    raw, _ = extracted("pyfeat_noface_face.mov")
    smoothed, _ = extracted("pyfeat_noface_face.mov", smooth)
    first = next(i for i, r in enumerate(raw) if r["face"] == "1")
    assert faces(smoothed)[:first].sum() == 0
    for name in MEDIAPIPE_NAMES:
        assert float(smoothed[first][name]) == pytest.approx(float(raw[first][name]), abs=1e-6)
    # and the value after the face's last frame is empty, not a decaying tail
    last = max(i for i, r in enumerate(raw) if r["face"] == "1")
    assert smoothed[last + 1]["jawOpen"] == ""
