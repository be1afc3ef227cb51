"""One clip's lip-sync evidence: the score of every offset searched, and the null covariance of those scores.

Score of an offset o: the correlation of each mouth signal at t with its audio signal at t + o (positive: audio
late), averaged over the pairs of pipeline.quality.lip_sync_signals.  The null is audio that does not belong to
the mouth but has the same spectra: the audio signals with their Fourier phases randomised (the same random
phases for every pair, so the pairs keep their cross-spectra).  Under that null the scores of all offsets are
jointly Gaussian with a covariance that depends only on the lag between two offsets; it is computed exactly
from the cross-spectrum (no sampling), and it is what turns the maximum over the whole search into a calibrated
confidence (pipeline.quality.lip_sync.judge) and lets clips of one recording be pooled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.quality.lip_sync_signals import HOP_S, audio_features, audio_signals, grid_for, mouth_signals


@dataclass(frozen=True)
class Evidence:
    offsets_ms: np.ndarray  # the search grid
    scores: np.ndarray  # mean correlation at each offset
    null_cov: np.ndarray  # null covariance of two scores k grid steps apart, k = 0 .. len(offsets) - 1
    duration_s: float  # seconds of signal behind it

    @property
    def null_std(self) -> float:
        return float(np.sqrt(max(self.null_cov[0], 1e-12)))


def search_offsets(max_offset_s: float, step_s: float) -> np.ndarray:
    half = int(round(max_offset_s / step_s))
    return np.arange(-half, half + 1) * step_s


def clip_evidence(times_s: np.ndarray, lip_gap: np.ndarray, jaw_open: np.ndarray, context: np.ndarray,
                  context_start_s: float, sample_rate: int, weights: np.ndarray, taps: np.ndarray, n_mels: int,
                  max_offset_s: float, step_s: float) -> Evidence | None:
    """The evidence of one clip, or None without a face on enough frames.  ``context``: its audio with at least
    ``max_offset_s`` + 0.1 s either side, starting at clip time ``context_start_s``."""
    grid = grid_for(times_s)
    mouth = mouth_signals(times_s, lip_gap, jaw_open, grid)
    if mouth is None:
        return None
    n = grid.size
    pad = int(round((max_offset_s + 0.1) / HOP_S))
    mel, loudness = audio_features(context, context_start_s, sample_rate, float(grid[0]) - pad * HOP_S,
                                   n + 2 * pad, n_mels)
    span = slice(pad, pad + n)
    audio = audio_signals(mel, loudness, weights, taps, span)
    return evidence_from_signals(mouth, audio, pad, max_offset_s, step_s)


def evidence_from_signals(mouth: np.ndarray, audio: np.ndarray, pad: int, max_offset_s: float,
                          step_s: float) -> Evidence:
    """``mouth`` (P, n) on the grid; ``audio`` (P, n + 2 pad), its sample pad + t at the mouth's t."""
    n = mouth.shape[1]
    offsets = search_offsets(max_offset_s, step_s)
    lags = np.round(offsets / HOP_S).astype(int)
    scores = np.array([np.mean(np.einsum("pt,pt->p", mouth, audio[:, pad + lag: pad + lag + n])) / n
                       for lag in lags])
    own = audio[:, pad: pad + n]
    cross = np.mean(np.conj(np.fft.rfft(mouth, axis=1)) * np.fft.rfft(own, axis=1), axis=0)
    power = np.abs(cross[1:]) ** 2
    power[-1] *= 0.5 if n % 2 == 0 else 1.0  # the Nyquist bin has no mirror
    freqs = np.arange(1, cross.size)
    steps = np.round(step_s / HOP_S).astype(int) * np.arange(offsets.size)
    cov = (2.0 / n ** 4) * (np.cos(2 * np.pi * np.outer(steps, freqs) / n) @ power)
    return Evidence(np.round(offsets * 1000.0, 1), scores, cov, n * HOP_S)


def pool(items: list[Evidence]) -> Evidence:
    """Evidence of one recording from its clips' (one A/V offset for all): scores averaged with inverse-variance
    weights; the clips' nulls are independent, so the pooled null covariance is the weighted sum of theirs."""
    weights = np.array([1.0 / max(e.null_cov[0], 1e-12) for e in items])
    weights = weights / weights.sum()
    scores = sum(w * e.scores for w, e in zip(weights, items))
    cov = sum(w * w * e.null_cov for w, e in zip(weights, items))
    return Evidence(items[0].offsets_ms, scores, cov, float(sum(e.duration_s for e in items)))
