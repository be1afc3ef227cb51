"""Small pure functions: head pose, smoothing filters, writers' formatting, atomic output."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

from pipeline.atomic import atomic_output
from pipeline.errors import OutputError
from pipeline.face.blendshape_names import (
    ARKIT_NAMES,
    MEDIAPIPE_NAMES,
    arkit_to_mediapipe_index,
)
from pipeline.face.head_pose import rotation_matrix, yaw_pitch_roll
from pipeline.face.smoothing import EmaSmoother, OneEuroSmoother, make_smoother
from pipeline.media.frame_writers import ArkitCsvWriter


@pytest.mark.parametrize("angles", [(0, 0, 0), (20, -10, 5), (-35, 15, -12), (60, 30, 45)])
def test_head_pose_round_trip(angles):
    matrix = np.eye(4)
    matrix[:3, :3] = rotation_matrix(*angles) * 1.7  # MediaPipe's matrix may carry scale
    assert yaw_pitch_roll(matrix) == pytest.approx(angles, abs=1e-6)


def test_arkit_mapping_covers_all_but_tongue():
    index = arkit_to_mediapipe_index()
    assert len(ARKIT_NAMES) == 52
    assert index[ARKIT_NAMES.index("TongueOut")] is None
    mapped = [i for i in index if i is not None]
    assert len(mapped) == 51 and len(set(mapped)) == 51
    assert 0 not in mapped  # _neutral is not an ARKit shape
    assert MEDIAPIPE_NAMES[index[ARKIT_NAMES.index("JawOpen")]] == "jawOpen"


def test_ema_follows_formula_and_resets():
    ema = EmaSmoother(alpha=0.5)
    assert ema(np.array([1.0]), 0.0) == pytest.approx([1.0])
    assert ema(np.array([0.0]), 0.04) == pytest.approx([0.5])
    ema.reset()
    assert ema(np.array([0.0]), 0.08) == pytest.approx([0.0])


def test_one_euro_smooths_noise_but_follows_steps():
    rng = np.random.default_rng(0)
    f = OneEuroSmoother()
    t = np.arange(200) / 30.0
    noisy = 0.5 + rng.normal(0, 0.05, size=200)
    out = np.array([f(np.array([v]), ti)[0] for v, ti in zip(noisy, t)])
    assert out[50:].std() < noisy[50:].std() * 0.7
    f.reset()
    step = np.r_[np.zeros(30), np.ones(30)]
    out = np.array([f(np.array([v]), ti)[0] for v, ti in zip(step, t[:60])])
    assert out[-1] > 0.95  # converges to the new level within a second


def test_smooth_names_and_aliases():
    assert make_smoother("yes").name == "ema"
    assert make_smoother("no").name == "none"
    assert make_smoother("OneEuro").name == "oneeuro"
    with pytest.raises(ValueError):
        make_smoother("gaussian")


def test_arkit_timecode():
    writer = ArkitCsvWriter(io.StringIO(), {"fps": 25.0})
    assert writer.timecode(0.0) == "00:00:00:00.000"
    assert writer.timecode(3661.5) == "01:01:01:12.500"
    assert writer.timecode(0.04) == "00:00:00:01.000"


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old complete result")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as fh:
            fh.write("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old complete result"
    assert os.listdir(tmp_path) == ["out.csv"]
    with atomic_output(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_atomic_output_refuses_missing_folder(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        with atomic_output(tmp_path / "nope" / "out.csv"):
            pass
