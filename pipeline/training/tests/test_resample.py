"""#24: frame-rate resampling on export goes by PTS, keeps the usable mask honest, and recomputes audio features
with the clip's own definitions; a 25 -> 30 -> 25 round trip comes back, a one-frame shift does not."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.training.resample import Resampler, recompute_features
from pipeline.training.training_export import clip_frames, clips_from_folder


def test_values_come_from_the_pts_not_the_index_and_usable_needs_both_neighbours():
    times = np.array([0.0, 0.04, 0.10, 0.12])  # variable frame rate
    at = Resampler.between(times, 25)
    assert np.allclose(at.times, [0.0, 0.04, 0.08, 0.12])
    values = np.array([[0.0], [0.4], [1.0], [0.2]])
    assert np.allclose(at.values(values)[:, 0], [0.0, 0.4, 0.4 + 0.6 * (0.04 / 0.06), 0.2])
    assert at.both(np.array([True, True, False, True])).tolist() == [True, True, False, True]
    assert at.both(np.array([True, False, True, True])).tolist() == [True, False, False, True]


def test_25_to_30_to_25_comes_back_and_a_one_frame_shift_does_not(talk3_dataset):
    clip = clips_from_folder(talk3_dataset.root)[0]
    table25 = clip_frames(clip, "train", 25)
    t25 = table25["time_s"].to_numpy()
    jaw25 = table25["jawOpen"].to_numpy(zero_copy_only=False).astype(float)
    ok = table25["usable"].to_numpy(zero_copy_only=False)
    at30 = Resampler.between(t25, 30)
    back = Resampler.between(at30.times, 25)
    round_trip = back.values(at30.values(jaw25[:, None]))[:, 0]
    assert np.allclose(back.times, t25[: back.times.size])
    n = back.times.size
    error = np.nanmean(np.abs(round_trip - jaw25[:n])[ok[:n]])
    shifted = np.nanmean(np.abs(round_trip[1:] - jaw25[: n - 1])[ok[1: n]])
    assert error < 0.01 and shifted > 3 * error, (error, shifted)
    # the exported 30 fps rows are the same interpolation, frame numbers on the 30 fps grid
    table30 = clip_frames(clip, "train", 30)
    assert table30["frame"].to_numpy().tolist() == list(range(table30.num_rows))
    assert np.allclose(table30["time_s"].to_numpy(), np.arange(table30.num_rows) / 30)


def test_audio_features_are_computed_again_with_the_clip_definitions(talk3_dataset):
    clip = clips_from_folder(talk3_dataset.root)[1]
    with np.load(clip.files.audio_features) as npz:
        own_times, own_mel, params = npz["times_s"], npz["mel"], str(npz["params"])
    again = recompute_features(clip.files.audio, params, own_times)
    inner = slice(3, -3)  # the edges saw the recording's audio around the clip when it was made
    # the same up to the wav's 16-bit rounding (which moves only the quietest bands' dB)
    assert np.abs(again["mel"][inner] - own_mel[inner]).mean() < 0.05
    with np.load(clip.files.audio_features) as npz:
        own_rms = npz["rms"]
    assert np.allclose(again["rms"][inner], own_rms[inner], rtol=1e-3, atol=1e-5)
    at30 = Resampler.between(own_times, 30)
    mel30 = recompute_features(clip.files.audio, params, at30.times)["mel"]
    assert mel30.shape == (at30.times.size, 80)
    # a 30 fps frame's mel is nearer the 25 fps mel interpolated at its time than at the time one frame later
    expected = at30.values(own_mel)
    near = np.abs(mel30[3:-3] - expected[3:-3]).mean()
    shifted = np.abs(mel30[3:-4] - expected[4:-3]).mean()
    assert near < shifted, (near, shifted)


@pytest.mark.parametrize("fps", [30, 60])
def test_a_resampled_parquet_export_says_its_fps(talk3_dataset, tmp_path, fps):
    import json

    from pipeline.training.trainer_layouts import LayoutOptions, layout_entries
    from pipeline.training.training_export import assign_splits, write_export

    clips = clips_from_folder(talk3_dataset.root)
    out = write_export(layout_entries("parquet", clips, assign_splits({c.video for c in clips}),
                                      LayoutOptions(fps=fps)), tmp_path / "export")
    info = json.loads((out / "export.json").read_text())
    assert info["fps"] == fps and len(info["empty_splits"]) == 2
    assert info["counts"]["frames"]["train"] == pytest.approx(16.1 * fps, rel=0.05)
