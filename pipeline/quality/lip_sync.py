"""Lip-sync check: does the audio belong to the mouth on screen, and with what offset?

A raw correlation of mouth opening with loudness cannot tell matched from
mismatched audio (slow trends dominate it, and the maximum of many lags always
finds something).  Instead, for each candidate offset, a per-clip ridge
regression predicts the mouth opening from a few frames of log-mel context
around each frame time + offset, cross-validated on contiguous folds; its
held-out correlation is the sync score of that offset.  Both signals are
detrended (a one-second moving average removed).  The confidence says how far
the best score stands above a null distribution: the same regression with
the audio circularly shifted by at least a second against the video (audio
that does not belong to these mouth movements but has the same statistics).

Verdicts: ``mismatch`` (the best score is not above the null), ``no_reliable_offset``
(the evidence is too weak to name an offset, or the best offset lies at the edge of
the search window), ``in_sync`` (offset within
the ITU-R BT.1359 acceptability window: audio at most 90 ms early, 185 ms late),
``offset`` (a reliable offset outside it).  Positive offsets: the sound comes after
the mouth movement (audio late).

Offsets are also given in frames at the clip's frame rate, in both conventions: ours
(``offset_frames``, positive: audio late) and syncnet_python's (``syncnet_offset_frames``,
the opposite sign: its ``evaluate`` compares video frame i with audio frames i-vshift..i+vshift
and reports ``vshift - argmin``, so audio that lags by d frames gives -d).  The score of every
offset searched is kept (``curve_offsets_ms``, ``curve_scores``) with the null's mean and spread,
so the viewer can draw the curve against its null band.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pipeline.audio.spectral import hann_periodic, mel_filterbank, power_to_db

HOP_S = 0.01  # log-mel analysis hop: the resolution of the offset search


@dataclass(frozen=True)
class LipSyncParams:
    max_offset_s: float = 0.5
    step_s: float = 0.02
    n_mels: int = 12
    context_s: tuple[float, ...] = (-0.04, 0.0, 0.04)  # log-mel frames around each frame time
    folds: int = 5
    ridge: float = 100.0  # on standardised features: few parameters, clips of a few seconds
    detrend_s: float = 0.5
    null_shifts: int = 24
    min_null_shift_s: float = 1.0
    # Confidence = z-score of the best offset's score against the null.  Measured on the shared talking
    # clips (5-6 s): mismatched audio gave z from 0.9 to 3.6, genuine clips 1.1 to 5.1.  So a verdict of
    # sync needs z >= sync_confidence, and "mismatch" is only said below mismatch_confidence, where
    # the audio explains the mouth no better than shifted audio does; in between, no reliable offset.
    sync_confidence: float = 4.0
    mismatch_confidence: float = 1.0
    min_score: float = 0.1  # held-out r below which no verdict of sync is given
    early_ms: float = -90.0  # ITU-R BT.1359 acceptability limits
    late_ms: float = 185.0
    min_frames: int = 50


@dataclass(frozen=True)
class LipSync:
    offset_ms: float | None  # None when there is no reliable offset
    confidence: float | None  # (best score - null mean) / null standard deviation
    verdict: str  # in_sync | offset | mismatch | no_reliable_offset
    score: float | None = None  # held-out correlation at the best offset
    null_mean: float | None = None
    null_std: float | None = None
    best_offset_ms: float | None = None  # where the search peaked, reliable or not
    offset_frames: int | None = None  # offset_ms in frames at the clip's frame rate (positive: audio late)
    syncnet_offset_frames: int | None = None  # the same in syncnet_python's sign (positive: audio early)
    curve_offsets_ms: list[float] | None = None  # every offset searched ...
    curve_scores: list[float] | None = None  # ... and its held-out r (the null: null_mean, null_std)
    method: str = ("held-out r of a per-clip ridge regression from log-mel context to lip opening, per offset; "
                   "confidence = z-score against circularly shifted audio")

    def as_dict(self) -> dict:
        return asdict(self)


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along axis 0 (shrinking at the ends)."""
    if width <= 1:
        return x.copy()
    pad = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    n = x.shape[0]
    lo = np.clip(np.arange(n) - width // 2, 0, n)
    hi = np.clip(np.arange(n) + width - width // 2, 0, n)
    return (pad[hi] - pad[lo]) / (hi - lo).reshape((-1,) + (1,) * (x.ndim - 1))


def log_mel_frames(samples: np.ndarray, sample_rate: int, n_mels: int) -> np.ndarray:
    """(frames, n_mels) dB log-mel at a HOP_S hop; frame k is centred on sample k*hop."""
    hop = int(round(HOP_S * sample_rate))
    win, n_fft = int(0.025 * sample_rate), 512
    pad = np.zeros(n_fft // 2, np.float32)  # librosa's center=True, constant padding
    x = np.concatenate([pad, np.asarray(samples, np.float32), pad])
    count = 1 + (x.size - n_fft) // hop
    window = np.zeros(n_fft)
    window[(n_fft - win) // 2: (n_fft - win) // 2 + win] = hann_periodic(win)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop][:count]
    fb = mel_filterbank(sample_rate, n_fft, n_mels, 80.0, min(7600.0, sample_rate / 2)).T
    out = np.empty((count, n_mels))
    for a in range(0, count, 2048):  # in blocks: a long clip's spectrogram would be large
        out[a: a + 2048] = power_to_db((np.abs(np.fft.rfft(frames[a: a + 2048] * window, axis=1)) ** 2) @ fb)
    return out


def held_out_r(x: np.ndarray, y: np.ndarray, folds: int, ridge: float) -> float:
    """Correlation of y with its ridge prediction from x, each fold predicted by a model fit on the others."""
    n = y.size
    edges = np.linspace(0, n, folds + 1).astype(int)
    pred = np.empty(n)
    for a, b in zip(edges[:-1], edges[1:]):
        train = np.ones(n, bool)
        train[a:b] = False
        xt, yt = x[train], y[train]
        mu, sd = xt.mean(axis=0), xt.std(axis=0) + 1e-6
        xs = (xt - mu) / sd
        w = np.linalg.solve(xs.T @ xs + ridge * np.eye(x.shape[1]), xs.T @ (yt - yt.mean()))
        pred[a:b] = ((x[a:b] - mu) / sd) @ w + yt.mean()
    if pred.std() < 1e-12 or y.std() < 1e-12:
        return 0.0
    return float(np.corrcoef(pred, y)[0, 1])


def estimate_lip_sync(mouth: np.ndarray, times_s: np.ndarray, context: np.ndarray, context_start_s: float,
                      sample_rate: int, params: LipSyncParams = LipSyncParams()) -> LipSync:
    """Offset and confidence between ``mouth`` (opening per frame, NaN without a face) and the audio.

    ``context`` is the clip's audio with at least ``max_offset_s`` + 0.1 s on each side; ``context_start_s`` is
    the clip time of its first sample (negative: before the clip).
    """
    ok = ~np.isnan(mouth)
    if ok.sum() < params.min_frames or np.nanstd(mouth) < 1e-6:
        return LipSync(None, None, "no_reliable_offset")
    times = np.asarray(times_s, np.float64)
    fps_frames = max(int(round(params.detrend_s / np.median(np.diff(times)))), 3) if times.size > 1 else 3
    y_full = np.where(ok, mouth, np.interp(times, times[ok], mouth[ok]))
    y_full = y_full - moving_average(y_full, fps_frames)
    mel = log_mel_frames(context, sample_rate, params.n_mels)
    mel = mel - moving_average(mel, int(round(params.detrend_s / HOP_S)))
    offsets = np.arange(-params.max_offset_s, params.max_offset_s + params.step_s / 2, params.step_s)

    def design(offset: float, roll: int = 0) -> np.ndarray:
        centres = (times + offset - context_start_s) / HOP_S
        columns = [mel[np.clip(np.round(centres + c / HOP_S).astype(int), 0, mel.shape[0] - 1)]
                   for c in params.context_s]
        x = np.concatenate(columns, axis=1)
        return np.roll(x, roll, axis=0) if roll else x

    y = y_full[ok]
    scores = np.array([held_out_r(design(o)[ok], y, params.folds, params.ridge) for o in offsets])
    best = int(np.argmax(scores))
    frame_s = float(np.median(np.diff(times)))
    curve = dict(curve_offsets_ms=[round(float(o) * 1000, 1) for o in offsets],
                 curve_scores=[round(float(v), 4) for v in scores])
    min_shift = int(np.ceil(params.min_null_shift_s / frame_s))
    span = times.size - 2 * min_shift
    if span <= 0:
        return LipSync(None, None, "no_reliable_offset", round(float(scores[best]), 4),
                       best_offset_ms=round(float(offsets[best]) * 1000, 1), **curve)
    shifts = np.unique(min_shift + np.linspace(0, span, params.null_shifts).astype(int))
    x0 = design(float(offsets[best]))
    null = np.array([held_out_r(np.roll(x0, s, axis=0)[ok], y, params.folds, params.ridge) for s in shifts])
    mean, std = float(null.mean()), float(max(null.std(), 0.02))
    confidence = (float(scores[best]) - mean) / std
    offset_ms = float(offsets[best]) * 1000.0
    common = dict(confidence=round(confidence, 3), score=round(float(scores[best]), 4), null_mean=round(mean, 4),
                  null_std=round(std, 4), best_offset_ms=round(offset_ms, 1), **curve)
    if confidence < params.mismatch_confidence:
        return LipSync(None, verdict="mismatch", **common)
    if confidence < params.sync_confidence or scores[best] < params.min_score or best in (0, offsets.size - 1):
        return LipSync(None, verdict="no_reliable_offset", **common)
    verdict = "in_sync" if params.early_ms <= offset_ms <= params.late_ms else "offset"
    frames = int(round(offset_ms / 1000.0 / frame_s))
    return LipSync(round(offset_ms, 1), verdict=verdict, offset_frames=frames, syncnet_offset_frames=-frames, **common)
