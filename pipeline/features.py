"""Audio features at the video frame times: a registry of named extractors.

Every extractor sees the same analysis frames: for video frame i at clip time
t_i (its PTS), a Hann window of ``win`` samples centred on t_i*sr.  The hop is
therefore the frame interval itself (sr/fps on constant-rate video) and
nothing is resampled or interpolated afterwards.  Add an extractor with::

    @register_feature("my_feature")
    def my_feature(ctx: FeatureContext) -> np.ndarray:   # (frames, dims)
        ...
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

FeatureFn = Callable[["FeatureContext"], np.ndarray]
FEATURES: dict[str, FeatureFn] = {}
DEFAULT_FEATURES = ("mel", "mfcc", "f0", "voicing", "zcr", "spectral_centroid", "rms")


def register_feature(name: str) -> Callable[[FeatureFn], FeatureFn]:
    def add(fn: FeatureFn) -> FeatureFn:
        FEATURES[name] = fn
        return fn
    return add


@dataclass
class FeatureParams:
    n_mels: int = 80
    n_mfcc: int = 13
    fmin: float = 0.0
    fmax: float | None = None  # default: Nyquist
    f0_method: str = "dio"  # or "harvest" (about 4x realtime here)
    dio_speed: int = 2  # WORLD's decimation (1 = slowest): 2 halves the time; stonemask refines F0 anyway
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    window_frames: float = 2.0  # analysis window length in frame intervals (50% overlap)


@dataclass
class FeatureContext:
    """Shared, lazily computed analysis of one clip's audio at its frame times."""

    samples: np.ndarray  # float32 mono, clip time 0 at samples[0]
    sample_rate: int
    times_s: np.ndarray  # frame PTS relative to the clip start
    params: FeatureParams = field(default_factory=FeatureParams)

    @cached_property
    def hop(self) -> float:
        """Samples per frame at the clip's mean frame rate (sample rate / fps)."""
        return mean_frame_interval(self.times_s) * self.sample_rate

    @cached_property
    def win(self) -> int:
        return max(int(round(self.params.window_frames * self.hop)), 64)

    @cached_property
    def n_fft(self) -> int:
        return 1 << (self.win - 1).bit_length()

    @cached_property
    def windows(self) -> np.ndarray:
        """(frames, win) raw samples centred on each frame time, zero beyond the clip."""
        half = self.win // 2
        centres = np.round(self.times_s * self.sample_rate).astype(np.int64)
        padded = np.concatenate([np.zeros(half, np.float32), self.samples, np.zeros(self.win, np.float32)])
        index = centres[:, None] + np.arange(self.win)[None, :]  # padded offset `half` recentres
        return padded[np.clip(index, 0, padded.size - 1)]

    @cached_property
    def power(self) -> np.ndarray:
        """(frames, n_fft//2+1) power spectrum of the Hann-windowed frames."""
        spectrum = np.fft.rfft(self.windows * np.hanning(self.win)[None, :].astype(np.float32), n=self.n_fft, axis=1)
        return (spectrum.real**2 + spectrum.imag**2).astype(np.float64)

    @cached_property
    def freqs(self) -> np.ndarray:
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate)

    @cached_property
    def log_mel(self) -> np.ndarray:
        fb = mel_filterbank(self.sample_rate, self.n_fft, self.params.n_mels, self.params.fmin,
                            self.params.fmax or self.sample_rate / 2)
        return np.log(np.maximum(self.power @ fb.T, 1e-10))

    @cached_property
    def f0_and_voicing(self) -> tuple[np.ndarray, np.ndarray]:
        return f0_at_times(self.samples, self.sample_rate, self.times_s, self.params)

    def describe(self) -> dict:
        return {"sample_rate": self.sample_rate, "hop_samples": self.hop, "win_samples": self.win,
                "n_fft": self.n_fft, "window": "hann, centred on each frame's PTS",
                **{k: v for k, v in vars(self.params).items()}}


def mean_frame_interval(times_s: np.ndarray, default: float = 0.04) -> float:
    if times_s.size > 1 and times_s[-1] > times_s[0]:
        return float(times_s[-1] - times_s[0]) / (times_s.size - 1)
    return default


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale (linear below 1 kHz, logarithmic above), as librosa's default."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    mel = hz / f_sp
    return np.where(hz >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft//2+1) triangular filters, Slaney area normalisation."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower = (freqs[None, :] - edges[:-2, None]) / np.maximum(edges[1:-1, None] - edges[:-2, None], 1e-10)
    upper = (edges[2:, None] - freqs[None, :]) / np.maximum(edges[2:, None] - edges[1:-1, None], 1e-10)
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def f0_at_times(samples: np.ndarray, sr: int, times_s: np.ndarray, params: FeatureParams) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz, 0 when unvoiced) evaluated at exactly ``times_s`` with pyworld.

    dio (or harvest) proposes candidates on its own grid with a period of one
    frame interval; stonemask then refines F0 at the frames' own times.
    """
    import pyworld

    x = samples.astype(np.float64)
    if times_s.size == 0:
        return np.zeros(0), np.zeros(0, bool)
    period_ms = max(1.0, 1000.0 * mean_frame_interval(times_s))
    if params.f0_method == "harvest":
        coarse, grid = pyworld.harvest(x, sr, f0_floor=params.f0_floor, f0_ceil=params.f0_ceil, frame_period=period_ms)
    else:
        coarse, grid = pyworld.dio(x, sr, f0_floor=params.f0_floor, f0_ceil=params.f0_ceil, frame_period=period_ms,
                                   speed=params.dio_speed)
    nearest = np.clip(np.searchsorted(grid, times_s), 0, grid.size - 1)
    previous = np.clip(nearest - 1, 0, grid.size - 1)
    pick = np.where(np.abs(grid[previous] - times_s) < np.abs(grid[nearest] - times_s), previous, nearest)
    candidates = coarse[pick]
    refined = pyworld.stonemask(x, np.ascontiguousarray(candidates), np.ascontiguousarray(times_s, dtype=np.float64), sr)
    refined = np.where(candidates > 0, refined, 0.0)
    return refined, refined > 0


@register_feature("mel")
def mel(ctx: FeatureContext) -> np.ndarray:
    return ctx.log_mel.astype(np.float32)


@register_feature("mfcc")
def mfcc(ctx: FeatureContext) -> np.ndarray:
    from scipy.fft import dct

    db = 10.0 * ctx.log_mel / math.log(10.0)
    return dct(db, type=2, axis=1, norm="ortho")[:, : ctx.params.n_mfcc].astype(np.float32)


@register_feature("f0")
def f0(ctx: FeatureContext) -> np.ndarray:
    return ctx.f0_and_voicing[0].astype(np.float32)[:, None]


@register_feature("voicing")
def voicing(ctx: FeatureContext) -> np.ndarray:
    return ctx.f0_and_voicing[1].astype(np.float32)[:, None]


@register_feature("zcr")
def zcr(ctx: FeatureContext) -> np.ndarray:
    signs = np.signbit(ctx.windows)
    return (np.count_nonzero(signs[:, 1:] != signs[:, :-1], axis=1) / (ctx.win - 1)).astype(np.float32)[:, None]


@register_feature("spectral_centroid")
def spectral_centroid(ctx: FeatureContext) -> np.ndarray:
    total = ctx.power.sum(axis=1)
    centroid = (ctx.power @ ctx.freqs) / np.maximum(total, 1e-12)
    return np.where(total > 1e-12, centroid, 0.0).astype(np.float32)[:, None]


@register_feature("rms")
def rms(ctx: FeatureContext) -> np.ndarray:
    return np.sqrt(np.mean(ctx.windows.astype(np.float64) ** 2, axis=1)).astype(np.float32)[:, None]


def compute_features(samples: np.ndarray, sample_rate: int, times_s: np.ndarray,
                     names: tuple[str, ...] = DEFAULT_FEATURES, params: FeatureParams | None = None) -> dict[str, np.ndarray]:
    """Every requested feature as (frames, dims), plus ``times_s`` and the parameters."""
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(f"unknown audio feature(s) {', '.join(unknown)}; registered: {', '.join(sorted(FEATURES))}")
    ctx = FeatureContext(np.asarray(samples, np.float32), sample_rate, np.asarray(times_s, np.float64),
                         params or FeatureParams())
    result = {name: FEATURES[name](ctx) for name in names}
    for name, array in result.items():
        assert array.ndim == 2 and array.shape[0] == times_s.size, f"feature {name} returned {array.shape}"
    result["times_s"] = np.asarray(times_s, np.float64)
    result["_params"] = ctx.describe()
    return result
