"""The signals the lip-sync check compares, on one 100 Hz grid: mouth signals from the face, audio signals from the sound.

Mouth: the inner-lip gap from the landmarks (relative to face size), MediaPipe's jawOpen, and the lip gap's
velocity.  Audio: log-mel context through the cross-speaker audio-to-mouth model (a predicted lip gap and a
predicted jawOpen), the loudness envelope, and its slope.  They are compared in pairs (PAIRS): a predicted
lip gap with the lip gap, a predicted jawOpen with jawOpen, loudness with the lip gap, the loudness slope with
the lip-gap velocity.

Every signal is detrended (a 0.25 s moving average removed: head motion and slow level changes carry no
timing) and lightly smoothed (30 ms), then standardised over the clip.  Frames without a face are
interpolated across for the filters and then contribute nothing (zero after standardising).  The mouth is
placed on the grid by each frame's own time (VFR-safe).
"""
from __future__ import annotations

import numpy as np

from pipeline.audio.spectral import hann_periodic, mel_filterbank, power_to_db

HOP_S = 0.01  # the grid: the resolution of the offset search
DETREND_S = 0.25
SMOOTH_S = 0.03
AUDIO_DETREND_S = 0.5  # log-mel bands before the model: the model's inputs were trained this way
PAIRS = ("model lip gap / lip gap", "model jawOpen / jawOpen", "loudness / lip gap",
         "loudness slope / lip-gap velocity")


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along axis 0 (shrinking at the ends)."""
    if width <= 1:
        return x.copy()
    pad = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    n = x.shape[0]
    lo = np.clip(np.arange(n) - width // 2, 0, n)
    hi = np.clip(np.arange(n) + width - width // 2, 0, n)
    return (pad[hi] - pad[lo]) / (hi - lo).reshape((-1,) + (1,) * (x.ndim - 1))


def band(x: np.ndarray) -> np.ndarray:
    """Detrended and smoothed: what carries the timing of syllables."""
    x = x - moving_average(x, int(round(DETREND_S / HOP_S)))
    return moving_average(x, int(round(SMOOTH_S / HOP_S)))


def standardise(x: np.ndarray, span: slice = slice(None)) -> np.ndarray:
    part = x[span]
    sd = part.std(axis=0)
    return (x - part.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)


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


def grid_for(times_s: np.ndarray) -> np.ndarray:
    """The 100 Hz grid over the frames' times (clip time)."""
    return np.arange(float(times_s[0]), float(times_s[-1]) + HOP_S / 2, HOP_S)


def mouth_signals(times_s: np.ndarray, lip_gap: np.ndarray, jaw_open: np.ndarray,
                  grid: np.ndarray) -> np.ndarray | None:
    """(4, n) mouth signals in PAIRS order, or None without enough face."""
    ok = ~(np.isnan(lip_gap) | np.isnan(jaw_open))
    if ok.sum() < 2:
        return None
    times = np.asarray(times_s, np.float64)
    present = np.interp(grid, times, ok.astype(float)) > 0.5
    lip = band(np.interp(grid, times[ok], lip_gap[ok]))
    jaw = band(np.interp(grid, times[ok], jaw_open[ok]))
    velocity = np.gradient(lip)
    return np.stack([np.where(present, standardise_masked(s, present), 0.0) for s in (lip, jaw, lip, velocity)])


def standardise_masked(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    part = x[mask]
    sd = part.std() if part.size else 0.0
    return (x - (part.mean() if part.size else 0.0)) / (sd if sd > 1e-9 else 1.0)


def mel_design(mel: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Each grid step's log-mel context: the bands at the given tap offsets (in grid steps)."""
    idx = np.arange(mel.shape[0])
    return np.concatenate([mel[np.clip(idx + t, 0, mel.shape[0] - 1)] for t in taps], axis=1)


def audio_features(context: np.ndarray, context_start_s: float, sample_rate: int, lo_s: float, n: int,
                   n_mels: int) -> tuple[np.ndarray, np.ndarray]:
    """(log-mel (n, n_mels), loudness dB (n,)) on the grid lo_s + k*HOP_S, k < n, from the context audio."""
    first = int(round((lo_s - context_start_s) * sample_rate))
    count = int(round(n * HOP_S * sample_rate))
    x = np.zeros(count, np.float32)
    a, b = max(first, 0), min(first + count, context.size)
    if b > a:
        x[a - first: b - first] = context[a:b]
    mel = log_mel_frames(x, sample_rate, n_mels)[:n]
    loudness = 10 * np.log10(np.maximum((10 ** (mel / 10)).sum(axis=1), 1e-10))
    return mel, loudness


def audio_signals(mel: np.ndarray, loudness: np.ndarray, weights: np.ndarray, taps: np.ndarray,
                  span: slice) -> np.ndarray:
    """(4, m) audio signals in PAIRS order over the padded grid; standardised over ``span`` (the clip itself)."""
    mel = mel - moving_average(mel, int(round(AUDIO_DETREND_S / HOP_S)))
    x = standardise(mel_design(mel, taps), span)
    predicted = x @ weights  # (m, 2): lip gap, jawOpen
    level = loudness - moving_average(loudness, int(round(AUDIO_DETREND_S / HOP_S)))
    raw = (predicted[:, 0], predicted[:, 1], level, np.gradient(level))
    return np.stack([standardise(band(s), span) for s in raw])
