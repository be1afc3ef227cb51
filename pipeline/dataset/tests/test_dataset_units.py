"""Feature extractors, QC steps and segmentation rules on synthetic signals with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio.features import FEATURES, compute_features, register_feature
from pipeline.audio.segment import SegmentParams, Span, segment_speech, split_long
from pipeline.audio.track import AudioTrack
from pipeline.quality.qc import QcParams, interpolate_gaps, replace_outliers, run_qc

SR = 16000


def tone(freq: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_features_of_a_tone():
    samples = tone(220.0, 2.0)
    times = np.arange(0, 2.0, 0.04)
    out = compute_features(samples, SR, times)
    inner = slice(3, -3)
    assert out["rms"][inner, 0] == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    assert np.median(out["f0"][inner, 0]) == pytest.approx(220.0, rel=0.02)
    assert out["voicing"][inner, 0].all()
    assert np.median(out["spectral_centroid"][inner, 0]) == pytest.approx(220.0, rel=0.1)
    assert np.median(out["zcr"][inner, 0]) == pytest.approx(2 * 220.0 / SR, rel=0.1)
    assert out["mel"].shape == (50, 80) and out["mfcc"].shape == (50, 13)
    assert out["_params"]["hop_samples"] == pytest.approx(640)


def test_windows_are_centred_on_frame_times():
    samples = np.zeros(SR * 2, np.float32)
    samples[SR - 40: SR + 40] = 1.0  # a click at exactly 1.000 s
    times = np.array([0.88, 0.92, 0.96, 1.0, 1.04, 1.08, 1.12])
    rms = compute_features(samples, SR, times, ("rms",))["rms"][:, 0]
    assert int(np.argmax(rms)) == 3
    assert rms[2] == pytest.approx(rms[4], rel=1e-6)  # symmetric around the frame time


def test_variable_frame_times_are_used_as_given():
    samples = tone(300.0, 1.0)
    times = np.array([0.0, 0.03, 0.1, 0.11, 0.5, 0.52, 0.9])
    out = compute_features(samples, SR, times)
    assert out["times_s"].tolist() == times.tolist()
    assert all(v.shape[0] == times.size for k, v in out.items() if k != "_params")


def test_feature_registry_accepts_a_lab_extractor():
    @register_feature("peak")
    def peak(ctx):
        return np.abs(ctx.windows).max(axis=1, keepdims=True)

    try:
        out = compute_features(tone(100, 0.5, 0.25), SR, np.arange(0, 0.5, 0.04), ("peak", "rms"))
        assert out["peak"][3:-3, 0] == pytest.approx(0.25, rel=0.01)
        with pytest.raises(ValueError, match="unknown audio feature"):
            compute_features(tone(100, 0.5), SR, np.arange(0, 0.5, 0.04), ("nope",))
    finally:
        FEATURES.pop("peak")


def test_outlier_spike_is_replaced_but_fast_real_movements_are_kept():
    frames = 60
    times = np.arange(frames) / 25.0
    values = np.full((frames, 3), 0.1)
    values[:, 0] += np.linspace(0, 0.05, frames)
    values[30, 0] = 0.95  # a one-frame glitch: both neighbours near 0.12
    values[10:14, 1] = [0.03, 0.23, 0.64, 0.45]  # a real pucker (the example): it rises, then falls
    values[40:43, 2] = [0.1, 0.75, 0.12]  # a one-frame blink: exempt
    valid = np.ones(frames, bool)
    fixed, count = replace_outliers(values, valid, times, max_rate=15.0, exempt=(2,))
    assert count == 1
    assert fixed[30, 0] == pytest.approx(0.5 * (values[29, 0] + values[31, 0]))
    assert fixed[:, 1].tolist() == values[:, 1].tolist()
    assert fixed[:, 2].tolist() == values[:, 2].tolist()
    # at 60 fps a face cannot move 0.6 in one frame and back: the same glitch is caught with a smaller jump
    glitch = np.full((20, 1), 0.2)
    glitch[10, 0] = 0.5
    assert replace_outliers(glitch, np.ones(20, bool), np.arange(20) / 60.0)[1] == 1
    assert replace_outliers(glitch, np.ones(20, bool), np.arange(20) / 25.0)[1] == 0


def test_short_gaps_interpolated_long_gaps_masked():
    times = np.arange(40) / 25.0
    values = np.sin(times)[:, None].repeat(3, axis=1)
    valid = np.ones(40, bool)
    valid[10:13] = False  # 0.12 s: filled
    valid[20:35] = False  # 0.6 s: stays masked
    filled, mask, count, long_gaps = interpolate_gaps(np.where(valid[:, None], values, np.nan), valid, times, 0.25)
    assert count == 3 and mask[10:13].all() and not mask[20:35].any()
    assert filled[11, 0] == pytest.approx(np.sin(times[11]), abs=1e-3)  # cubic through the curve
    assert long_gaps == [{"start_frame": 20, "frames": 15}]


def test_quality_score_components():
    times = np.arange(100) / 25.0
    raw = np.full((100, 52), 0.2, np.float32)
    face = np.ones(100, bool)
    face[50:80] = False
    raw[~face] = np.nan
    result = run_qc(raw, face, times, QcParams(max_gap_s=0.25))
    assert result.valid_rate == pytest.approx(0.7)
    assert result.smoothness == pytest.approx(1.0)
    assert result.range_validity == pytest.approx(1.0)
    from pipeline.quality.scoring import PRESETS, score

    seed = score(result.report(), PRESETS["seed"])
    assert seed == pytest.approx(100 * (0.4 * 0.7 + 0.4 + 0.2), abs=0.01)
    assert not result.mask[50:80].any() and np.isnan(result.values[50:80]).all()


def test_long_runs_split_at_the_quietest_point():
    energy = np.zeros(1000) - 20.0
    energy[480] = -80.0  # the quietest frame near the middle
    parts = split_long(Span(0.0, 30.0), 20.0, energy, 0.0, 0.03)
    assert len(parts) == 2
    assert parts[0].end_s == pytest.approx(480.5 * 0.03)
    assert parts[0].end_s == parts[1].start_s


def test_energy_floor_keeps_faint_noise_out_of_speech():
    rng = np.random.default_rng(0)
    speech_like = np.concatenate([tone(180, 1.5, 0.3) * (1 + 0.5 * np.sin(np.arange(24000) / 400)), np.zeros(SR // 2),
                                  rng.normal(0, 10 ** (-68 / 20), SR * 2).astype(np.float32), tone(200, 1.5, 0.3)])
    audio = AudioTrack(speech_like.astype(np.float32), SR, 0.0)
    floored = segment_speech(audio, SegmentParams(min_clip=0.5, max_gap=0.6))
    assert floored.floor_db is not None and floored.floor_db > -68
    for span in floored.clips:  # nothing inside the faint-noise stretch (2.0 s - 4.0 s) survives
        assert span.end_s <= 2.1 or span.start_s >= 3.9


def test_timeline_aligner_fills_holes_and_trims_overlaps():
    from pipeline.audio.track import TimelineAligner

    aligner = TimelineAligner(1000)
    assert sum(c.size for c in aligner.place(0.0, np.ones(100))) == 100
    chunks = aligner.place(0.2, np.ones(100))  # 100 ms hole before this frame
    assert [c.size for c in chunks] == [100, 100] and not chunks[0].any()
    chunks = aligner.place(0.25, np.ones(100))  # overlaps the previous frame by 50 ms
    assert sum(c.size for c in chunks) == 50
    assert aligner.written == 350


def test_audio_keeps_its_place_after_a_hole(media, tmp_path):
    """Two copies of a talk with a 0.2 s hole between them: the second copy's audio stays at its PTS."""
    import av

    from bench.long_media import repeat_clip
    from pipeline.audio.track import decode_audio

    single = decode_audio(media("talk3.mp4"))
    with av.open(str(media("talk3.mp4"))) as container:
        period = container.duration / 1_000_000 + 0.2  # how repeat_clip spaces the copies
    joined = decode_audio(repeat_clip(media("talk3.mp4"), tmp_path / "twice.mp4", 0.5))
    first = single.slice(5.0, 6.0)
    scores = {lag: float(np.dot(first, joined.slice(5.0 + period + lag / 16000, 6.0 + period + lag / 16000)))
              for lag in range(-400, 401)}
    assert abs(max(scores, key=scores.get)) <= 2  # within 2 samples (0.125 ms); without gap handling: 3200
