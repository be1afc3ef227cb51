"""librosa's spectral definitions in plain NumPy/SciPy, for the workers.

The audio features follow librosa's definitions exactly (pipeline/dataset/tests/test_faithful_data.py
uses librosa itself as the oracle), but importing librosa costs each worker process
about 210 MB (numba and llvmlite, measured), which the 30-minute benchmark's 1.5 GB
budget for the whole process tree cannot afford.  These few functions are all the
pipeline needs of it.
"""
from __future__ import annotations

import math

import numpy as np


def hann_periodic(n: int) -> np.ndarray:
    """librosa.filters.get_window("hann", n, fftbins=True)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale (linear below 1 kHz, logarithmic above), librosa's default."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep,
                    hz / f_sp)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft//2+1) triangular filters with Slaney area normalisation: librosa.filters.mel."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower = (freqs[None, :] - edges[:-2, None]) / np.maximum(edges[1:-1, None] - edges[:-2, None], 1e-10)
    upper = (edges[2:, None] - freqs[None, :]) / np.maximum(edges[2:, None] - edges[1:-1, None], 1e-10)
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def power_to_db(power: np.ndarray, amin: float = 1e-10) -> np.ndarray:
    """librosa.power_to_db(S, ref=1.0, amin=amin, top_db=None): 10*log10(max(amin, S))."""
    return 10.0 * np.log10(np.maximum(amin, power))


def mfcc_from_db(mel_db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """librosa.feature.mfcc(S=mel_db): orthonormal DCT-II over the mel axis (last axis here)."""
    from scipy.fft import dct

    return dct(mel_db, type=2, axis=-1, norm="ortho")[..., :n_mfcc]


def zero_crossing_rate(frames: np.ndarray, threshold: float = 1e-10) -> np.ndarray:
    """librosa.feature.zero_crossing_rate of each row: values within ``threshold`` of 0 count as 0, 0 counts as
    positive, and the count of sign changes is divided by the frame length."""
    signs = np.signbit(np.where(np.abs(frames) <= threshold, 0.0, frames))
    return np.count_nonzero(signs[:, 1:] != signs[:, :-1], axis=1) / frames.shape[1]


def spectral_centroid(magnitude: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """librosa.feature.spectral_centroid(S=magnitude) per row: the magnitude-weighted mean frequency."""
    total = magnitude.sum(axis=1)
    weighted = magnitude @ freqs
    return np.where(total > np.finfo(magnitude.dtype).tiny, weighted / np.where(total > 0, total, 1.0), weighted)
