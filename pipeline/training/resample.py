"""Frame-rate resampling on export: values at new, evenly spaced frame times, interpolated from each frame's PTS.

A clip's frames carry their own presentation times (phone videos are VFR), so resampling never goes by index:
the new frame k is at ``k / fps`` seconds of clip time, and its value is the linear interpolation between the two
source frames around that instant (or the source frame itself when one falls on it within ``EXACT_S``).  A new
frame is *usable* only when both of those source frames are usable, so a repaired glitch or an untracked frame never
leaks into a neighbour that looks clean.  Audio features are not interpolated: they are computed again on the new
frame times with the clip's own definitions (``recompute_features``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

EXACT_S = 1e-6  # a source frame this close to a new frame time is that frame
EXPORT_FPS = (25, 30, 60)  # the rates the export offers (the trainers' rates)


@dataclass(frozen=True)
class Resampler:
    """Where each new frame time falls between the source frames: left neighbour, right neighbour, weight."""

    times: np.ndarray  # (N,) the new frame times, seconds of clip time
    left: np.ndarray  # (N,) index of the source frame at or before
    right: np.ndarray  # (N,) index of the source frame after (== left on an exact hit)
    weight: np.ndarray  # (N,) share of ``right`` in the value (0 on an exact hit)

    @classmethod
    def between(cls, source_times: np.ndarray, fps: float) -> "Resampler":
        """New frames at k / fps for every k whose time lies within the source's first and last frame."""
        src = np.asarray(source_times, np.float64)
        if src.size == 0:
            empty = np.zeros(0, np.int64)
            return cls(np.zeros(0), empty, empty, np.zeros(0))
        first = int(np.ceil(src[0] * fps - 1e-6))
        last = int(np.floor(src[-1] * fps + 1e-6))
        times = np.arange(first, last + 1, dtype=np.float64) / fps
        right = np.clip(np.searchsorted(src, times - EXACT_S, side="left"), 0, src.size - 1)
        exact = np.abs(src[right] - times) <= EXACT_S
        left = np.where(exact, right, np.clip(right - 1, 0, src.size - 1))
        span = src[right] - src[left]
        weight = np.where(exact | (span <= 0), 0.0, (times - src[left]) / np.where(span > 0, span, 1.0))
        return cls(times, left, right, np.clip(weight, 0.0, 1.0))

    def values(self, array: np.ndarray) -> np.ndarray:
        """Linear interpolation along the first axis (NaN where a neighbour that counts is NaN)."""
        a = np.asarray(array)
        w = self.weight.reshape((-1,) + (1,) * (a.ndim - 1))
        lo, hi = a[self.left].astype(np.float64), a[self.right].astype(np.float64)
        out = lo + w * (hi - lo)
        exact = (self.weight == 0)
        out[exact] = lo[exact]  # an exact hit is that frame, NaN or not
        return out

    def both(self, flags: np.ndarray) -> np.ndarray:
        """True where both source frames that make the new frame are true."""
        f = np.asarray(flags, bool)
        return f[self.left] & f[self.right]


def recompute_features(audio_path: Path, params_json: str | None, times_s: np.ndarray) -> dict[str, np.ndarray]:
    """The clip's audio features at new frame times, with the parameters its ``_audio_features.npz`` records.

    The window and hop follow the new frame interval, as they follow the clip's own rate when the clip is made.
    The clip's wav starts at clip time 0: the first and last half-window see silence beyond it where the clip's
    own features saw the recording's audio (the first and last frame or two differ a little)."""
    from pipeline.audio.features import DEFAULT_FEATURES, FeatureParams, compute_features
    from pipeline.audio.track import decode_audio

    track = decode_audio(audio_path)
    known = {f.name for f in fields(FeatureParams)}
    recorded = json.loads(params_json) if params_json else {}
    params = FeatureParams(**{k: v for k, v in recorded.items() if k in known})
    out = compute_features(track.samples, track.sample_rate, np.asarray(times_s, np.float64), DEFAULT_FEATURES,
                           params, start_s=0.0)
    out.pop("_params", None)
    return out
