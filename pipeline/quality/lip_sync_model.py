"""The cross-speaker audio-to-mouth model: a ridge regression from log-mel context to the lip gap and jawOpen.

It is fit on genuine recordings of several speakers (scripts/train_lip_sync_model.py makes the shipped one,
``models/lip_sync_audio_to_mouth.json``, from the public recordings named in it) and used for every clip: no
per-clip fitting, so the lip-sync check costs a few matrix products.  ``genuine_r`` is the score a genuine
recording reaches at its own offset when the model was not trained on it (leave one recording out; a low
quantile over the training speakers): the lip-sync verdicts use it to say whether a clip is long enough to tell
matched from foreign audio, and how long it would have to be.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.quality.lip_sync_evidence import Evidence, clip_evidence
from pipeline.quality.lip_sync_signals import (AUDIO_DETREND_S, HOP_S, audio_features, band, grid_for, mel_design,
                                               moving_average, standardise)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "lip_sync_audio_to_mouth.json"
FORMAT = "lip-sync audio-to-mouth v1"


@dataclass(frozen=True)
class AudioToMouth:
    n_mels: int
    taps: tuple[int, ...]  # log-mel context, in 10 ms grid steps around each time
    weights: np.ndarray  # (n_mels * len(taps), 2): standardised log-mel context -> lip gap, jawOpen
    genuine_r: float
    trained_on: list[dict] = field(default_factory=list)  # name, licence, seconds, offset_ms found, held-out r
    ridge: float = 300.0

    @property
    def tap_array(self) -> np.ndarray:
        return np.array(self.taps, int)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "n_mels": self.n_mels, "taps": list(self.taps), "ridge": self.ridge,
                "genuine_r": round(self.genuine_r, 4), "trained_on": self.trained_on,
                "weights": np.round(self.weights, 6).tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "AudioToMouth":
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model")
        return cls(int(data["n_mels"]), tuple(int(t) for t in data["taps"]), np.array(data["weights"], float),
                   float(data["genuine_r"]), list(data.get("trained_on") or []), float(data.get("ridge", 300.0)))

    def save(self, path: str | os.PathLike[str]) -> None:
        with atomic_output(Path(path)) as fh:
            json.dump(self.to_dict(), fh, indent=0)


def load_model(path: str | os.PathLike[str]) -> AudioToMouth:
    return AudioToMouth.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int) -> AudioToMouth:
    return load_model(path)


def model_at(path: str | os.PathLike[str] | None = None) -> AudioToMouth:
    """The model at ``path`` (the shipped one by default), read once per process while the file is unchanged."""
    p = Path(path) if path is not None else DEFAULT_MODEL_PATH
    return _cached(str(p), p.stat().st_mtime_ns)


@dataclass
class Recording:
    """One genuine recording to train from: its frames' mouth and its audio (clip time 0 = first frame)."""

    name: str
    times_s: np.ndarray
    lip_gap: np.ndarray
    jaw_open: np.ndarray
    audio: np.ndarray
    audio_start_s: float
    sample_rate: int
    licence: str = ""


N_MELS, TAPS = 20, tuple(range(-8, 9, 2))
PAD = 60  # grid steps of audio either side: 0.6 s, more than the offset search


def _rows(rec: Recording, offset_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Standardised log-mel context at each grid time + offset, and the standardised mouth (lip gap, jawOpen)."""
    grid = grid_for(rec.times_s)
    ok = ~(np.isnan(rec.lip_gap) | np.isnan(rec.jaw_open))
    present = np.interp(grid, rec.times_s, ok.astype(float)) > 0.5
    mouth = np.stack([band(np.interp(grid, rec.times_s[ok], v[ok])) for v in (rec.lip_gap, rec.jaw_open)], 1)
    mel, _ = audio_features(rec.audio, rec.audio_start_s, rec.sample_rate, float(grid[0]) - PAD * HOP_S,
                            grid.size + 2 * PAD, N_MELS)
    mel = mel - moving_average(mel, int(round(AUDIO_DETREND_S / HOP_S)))
    shift = int(round(offset_s / HOP_S))
    span = slice(PAD + shift, PAD + shift + grid.size)
    x = standardise(mel_design(mel, np.array(TAPS)), span)[span]
    return x[present], standardise(mouth[present])


def _grams(recs: list[Recording], offsets: dict[str, float]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per recording, the normal equations' parts (X'X, X'Y): a fit on any subset is their sum."""
    grams = []
    for r in recs:
        x, y = _rows(r, offsets.get(r.name, 0.0))
        grams.append((x.T @ x, x.T @ y))
    return grams


def _solve(grams: list[tuple[np.ndarray, np.ndarray]], ridge: float) -> np.ndarray:
    xx = sum(g[0] for g in grams)
    xy = sum(g[1] for g in grams)
    return np.linalg.solve(xx + ridge * np.eye(xx.shape[0]), xy)


def _fit_weights(recs: list[Recording], offsets: dict[str, float], ridge: float) -> np.ndarray:
    return _solve(_grams(recs, offsets), ridge)


def recording_evidence(rec: Recording, weights: np.ndarray, max_offset_s: float = 0.5,
                       step_s: float = 0.02) -> Evidence:
    return clip_evidence(rec.times_s, rec.lip_gap, rec.jaw_open, rec.audio, rec.audio_start_s, rec.sample_rate,
                         weights, np.array(TAPS), N_MELS, max_offset_s, step_s)


def _held_out(recs: list[Recording], offsets: dict[str, float], ridge: float,
              near_ms: float) -> dict[str, tuple[float, float]]:
    """Per recording, with a model fit on the others: (best offset within +-near_ms, its score)."""
    grams = _grams(recs, offsets)
    out = {}
    for k, rec in enumerate(recs):
        weights = _solve(grams[:k] + grams[k + 1:], ridge)
        ev = recording_evidence(rec, weights)
        near = np.abs(ev.offsets_ms) <= near_ms
        best = int(np.argmax(np.where(near, ev.scores, -np.inf)))
        out[rec.name] = (float(ev.offsets_ms[best]), float(ev.scores[best]))
    return out


def fit_model(recs: list[Recording], ridge: float = 300.0, quantile: float = 0.25,
              near_ms: float = 200.0) -> AudioToMouth:
    """Fit on genuine recordings.  Each recording has an A/V offset of its own: it is found leave-one-out (a model
    fit on the others, best score within +-near_ms), then the model is refit with every recording at its offset,
    and ``genuine_r`` is the ``quantile`` of the held-out scores."""
    if len(recs) < 2:
        raise ValueError("the audio-to-mouth model needs at least two recordings (it is checked leave-one-out)")
    first = _held_out(recs, {}, ridge, near_ms)
    offsets = {name: off / 1000.0 for name, (off, _) in first.items()}
    second = _held_out(recs, offsets, ridge, near_ms)
    weights = _fit_weights(recs, offsets, ridge)
    genuine = float(np.quantile([r for _, r in second.values()], quantile))
    trained = [{"name": r.name, "licence": r.licence, "seconds": round(float(r.times_s[-1] - r.times_s[0]), 2),
                "offset_ms": round(offsets[r.name] * 1000.0, 1), "held_out_r": round(second[r.name][1], 4)}
               for r in recs]
    return AudioToMouth(N_MELS, TAPS, weights, genuine, trained, ridge)


def held_out_score(model: AudioToMouth, recs: list[Recording], near_ms: float = 200.0) -> float:
    """Mean score of ``model`` on recordings it was not fit on (best offset within +-near_ms): how a dataset's
    refit model is compared with the shipped one."""
    values = []
    for rec in recs:
        ev = recording_evidence(rec, model.weights)
        near = np.abs(ev.offsets_ms) <= near_ms
        values.append(float(np.max(np.where(near, ev.scores, -np.inf))))
    return float(np.mean(values)) if values else float("nan")
