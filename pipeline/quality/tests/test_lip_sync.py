"""Lip sync a lab can curate by (issue #20): a confidence calibrated against the null of the maximum over the
offset search, evidence from several signals, pooling per recording, and the field's conventions.

Cases are built from the shared recordings: genuine (each face with its own audio), delayed (its own audio
shifted), foreign (a face with another speaker's audio, at many starting points).  The shipped model was trained
on the genuine recordings; the calibration does not depend on it (foreign audio is independent of any mouth).
"""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.quality.lip_sync import LipSyncParams, judge, null_of_max
from pipeline.quality.lip_sync_evidence import evidence_from_signals, pool
from pipeline.quality.lip_sync_model import DEFAULT_MODEL_PATH, fit_model, load_model, model_at
from pipeline.quality.lip_sync_pool import pool_recording
from pipeline.quality.lip_sync_training import TRAINING, sync_with_audio

FACES = [name for name, _ in TRAINING]
HDTF = [name for name in FACES if name.startswith("hdtf")]
OTHER_AUDIO = ["speech_RD_Radio31_000.wav", "speech_RD_Radio34_002.wav"]


def sync_of(recording, face: str, audio_from: str | None = None, audio_start_s: float | None = None,
            delay_s: float = 0.0, lo_s: float | None = None, hi_s: float | None = None,
            params: LipSyncParams = LipSyncParams()):
    source = recording(face if audio_from is None else audio_from)
    return sync_with_audio(recording(face), source, audio_start_s, delay_s, lo_s, hi_s, params)


def foreign_pairs(recording) -> list[tuple[str, str, float, float | None]]:
    """Every shared face (whole, and its first 4 s) with every other shared speaker's audio, from several starting
    points of that audio: (face, audio, start in the audio, face length or None for the whole)."""
    pairs = []
    for face in FACES:
        for cut in (None, 4.0):
            length = (cut or recording(face).times_s[-1]) + 1.2
            for audio in FACES + OTHER_AUDIO + ["talk3.mp4"]:
                if audio == face or (audio.startswith(("retalk", "talk3")) and face.startswith("retalk")):
                    continue  # retalk_face1-3 (and talk3, made of them) are one source: keep foreign strictly foreign
                total = recording(audio).audio.size / recording(audio).sample_rate
                pairs += [(face, audio, float(start), cut) for start in np.arange(0.6, total - length + 0.6, 0.5)]
    return pairs


def foreign_sync(recording, pair, params: LipSyncParams = LipSyncParams()):
    face, audio, start, cut = pair
    return sync_of(recording, face, audio, start, lo_s=None if cut is None else 0.0, hi_s=cut, params=params)


def test_foreign_audio_is_calibrated_against_the_null_of_the_maximum(recording):
    """Over 100+ foreign pairs: in_sync at most once, the confidence centred on 0 (selection bias gone), the
    false-alarm probability about uniform."""
    pairs = foreign_pairs(recording)
    assert len(pairs) >= 100
    results = [foreign_sync(recording, pair) for pair in pairs]
    verdicts = [r.verdict for r in results]
    assert verdicts.count("in_sync") <= 1, [(p, r.confidence) for p, r in zip(pairs, results) if r.verdict == "in_sync"]
    assert verdicts.count("offset") <= 2
    confidence = np.array([r.confidence for r in results])
    assert abs(confidence.mean()) < 0.5 and 0.6 < confidence.std() < 1.5, (confidence.mean(), confidence.std())
    p = np.array([r.false_alarm_p for r in results])
    assert 0.01 <= (p <= 0.05).mean() <= 0.12 and 0.35 <= (p <= 0.5).mean() <= 0.65
    # the confidence does not grow with the number of offsets tried: a wider search, the same centre
    wide = [foreign_sync(recording, pair, LipSyncParams(max_offset_s=1.0)).confidence for pair in pairs[::4]]
    assert abs(np.mean(wide)) < 0.6
    # shorter than 8 s: mismatch or too short, never a reliable offset beyond the calibrated rate
    for pair, result in zip(pairs, results):
        if pair[3] is not None:
            assert result.verdict in ("mismatch", "too_short") or result.false_alarm_p <= 0.003, (pair, result.verdict)


def test_no_genuine_clip_is_called_a_mismatch_whole_or_halved(recording):
    for face in FACES:
        whole = sync_of(recording, face)
        assert whole.verdict != "mismatch", face
        end = recording(face).times_s[-1]
        halves = [sync_of(recording, face, lo_s=0.0, hi_s=end / 2), sync_of(recording, face, lo_s=end / 2, hi_s=end + 1)]
        rec, clips = pool_recording([h.as_dict() for h in halves])
        assert rec["verdict"] != "mismatch" and all(c["verdict"] != "mismatch" for c in clips), face
        # the two halves pool to about the whole file's peak
        assert abs(rec["best_offset_ms"] - whole.best_offset_ms) <= 120, (face, rec["best_offset_ms"], whole.best_offset_ms)


def test_a_delay_moves_the_pooled_offset_by_the_delay(recording):
    face = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4"
    end = recording(face).times_s[-1]

    def pooled(delay_s: float) -> dict:
        halves = [sync_of(recording, face, delay_s=delay_s, lo_s=0.0, hi_s=end / 2),
                  sync_of(recording, face, delay_s=delay_s, lo_s=end / 2, hi_s=end + 1)]
        return pool_recording([h.as_dict() for h in halves])[0]

    base = pooled(0.0)["best_offset_ms"]
    for delay in (0.12, -0.08, 0.2):
        moved = pooled(delay)["best_offset_ms"]
        assert moved - base == pytest.approx(delay * 1000, abs=40), (delay, base, moved)
    # one frame (40 ms) more is seen: the same check with the wrong delay fails
    assert abs(pooled(0.16)["best_offset_ms"] - base - 120) > 20


def test_offsets_in_frames_in_both_conventions_and_never_at_the_edge(recording):
    face = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4"
    whole = sync_of(recording, face)
    assert whole.verdict in ("in_sync", "offset") and whole.offset_ms is not None
    frame_ms = 1000 * float(np.median(np.diff(recording(face).times_s)))
    assert whole.offset_frames == round(whole.offset_ms / frame_ms) and whole.syncnet_offset_frames == -whole.offset_frames
    later = sync_of(recording, face, delay_s=0.12)
    if later.offset_ms is not None:  # audio later: our frames grow, syncnet_python's shrink
        assert later.offset_frames > whole.offset_frames and later.syncnet_offset_frames < whole.syncnet_offset_frames
    curve = dict(zip(whole.curve_offsets_ms, whole.curve_scores))
    assert len(curve) == 51 and max(curve, key=curve.get) == whole.offset_ms
    edge = sync_of(recording, face, delay_s=0.6)  # the true offset lies beyond the +-500 ms search
    assert edge.offset_ms is None and edge.verdict != "in_sync"


def test_too_short_says_how_long_a_clip_would_have_to_be(recording):
    face = "hdtf_WDA_KatieHill_000.mp4"
    whole = sync_of(recording, face, "speech_RD_Radio31_000.wav", 0.0)
    assert whole.verdict == "too_short" and whole.needed_s > whole.duration_s
    half = sync_of(recording, face, "speech_RD_Radio31_000.wav", 0.0, lo_s=0.0, hi_s=4.0)
    # the length needed is the speaker's, not the clip's: about the same from half the evidence
    assert half.needed_s == pytest.approx(whole.needed_s, rel=0.5)


def test_the_null_of_the_maximum_is_that_of_independent_signals():
    """Independent random signals: the false-alarm probability is uniform, and a one-step delay of a matching
    signal moves the peak by one step (the search sees misalignment)."""
    rng = np.random.default_rng(7)
    params = LipSyncParams()
    n, pad = 800, 60

    def smooth(x):
        return np.convolve(x, np.ones(8) / 8, mode="same")

    ps = []
    for _ in range(200):
        mouth = np.stack([smooth(rng.standard_normal(n)) for _ in range(4)])
        audio = np.stack([smooth(rng.standard_normal(n + 2 * pad)) for _ in range(4)])
        mouth = (mouth - mouth.mean(1, keepdims=True)) / mouth.std(1, keepdims=True)
        audio = (audio - audio.mean(1, keepdims=True)) / audio.std(1, keepdims=True)
        ps.append(judge(evidence_from_signals(mouth, audio, pad, 0.5, 0.02), 0.2, params).false_alarm_p)
    ps = np.array(ps)
    assert 0.02 <= (ps <= 0.05).mean() <= 0.1 and 0.4 <= (ps <= 0.5).mean() <= 0.6
    base = smooth(rng.standard_normal(n + 2 * pad))
    for lag in (4, 6):  # audio late by 40 and 60 ms
        audio = np.stack([np.roll(base, lag)] * 4)
        mouth = np.stack([base[pad: pad + n]] * 4)
        ev = evidence_from_signals(mouth, audio, pad, 0.5, 0.02)
        assert ev.offsets_ms[int(np.argmax(ev.scores))] == lag * 10
    draws = null_of_max(np.array([1.0] + [0.0] * 50))  # 51 independent offsets: the max of 51 normals
    assert draws.mean() == pytest.approx(2.25, abs=0.1)


def test_pooling_adds_evidence_like_a_longer_clip(recording):
    face = "hdtf_WDA_KatieHill_000.mp4"
    end = recording(face).times_s[-1]
    halves = [sync_of(recording, face, lo_s=0.0, hi_s=end / 2), sync_of(recording, face, lo_s=end / 2, hi_s=end + 1)]
    from pipeline.quality.lip_sync import stored_evidence

    a, b = (stored_evidence(h.as_dict()) for h in halves)
    both = pool([a, b])
    assert both.null_std < min(a.null_std, b.null_std) and both.duration_s == pytest.approx(a.duration_s + b.duration_s)
    assert judge(both, 0.16, LipSyncParams()).power_z > max(judge(e, 0.16, LipSyncParams()).power_z for e in (a, b))


def test_the_shipped_model_is_what_its_training_script_makes(recording):
    shipped = load_model(DEFAULT_MODEL_PATH)
    remade = fit_model([recording(name) for name in FACES])
    assert np.allclose(remade.weights, shipped.weights, atol=1e-5)
    assert remade.genuine_r == pytest.approx(shipped.genuine_r, abs=1e-4)
    assert [row["name"] for row in shipped.trained_on] == FACES and all(row["licence"] for row in shipped.trained_on)
    assert model_at() == model_at()  # read once per process


def test_a_refit_holds_out_videos_and_is_adopted_only_when_it_scores_higher(recording):
    from pipeline.quality.lip_sync_refit import refit, split_videos

    shipped = model_at()
    halves = {}
    for name in FACES:  # each recording a "video" of two clips
        r = recording(name)
        mid = r.times_s.size // 2
        for part, sl in (("a", slice(0, mid)), ("b", slice(mid, None))):
            t0 = r.times_s[sl][0]
            first = int(round((t0 - r.audio_start_s) * r.sample_rate))
            last = int(round((r.times_s[sl][-1] + 0.04 - r.audio_start_s) * r.sample_rate))
            halves.setdefault(name, []).append(type(r)(f"{name}/{part}", r.times_s[sl] - t0, r.lip_gap[sl],
                                                       r.jaw_open[sl], r.audio[first:last], 0.0, r.sample_rate))
    train, held = split_videos(list(halves))
    assert held and train and not set(train) & set(held)
    result = refit(halves, shipped)
    assert result.held_out_videos == held and result.clips == 10
    assert result.own_score is not None and result.shipped_score is not None
    assert result.adopted == (result.own_score > result.shipped_score)
    if result.adopted:  # never fit on a held-out video
        assert not {row["name"].split("/")[0] for row in result.model.trained_on} & set(held)
    too_few = refit({k: v for k, v in list(halves.items())[:2]}, shipped)
    assert not too_few.adopted and too_few.model is None and "needs 3 videos" in too_few.reason
