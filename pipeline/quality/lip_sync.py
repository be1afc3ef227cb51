"""Lip-sync check: does the audio belong to the mouth on screen, and with what offset?

Evidence (pipeline.quality.lip_sync_evidence): for every offset in +-0.5 s (20 ms steps), how well four mouth
signals follow four audio signals (a cross-speaker audio-to-mouth model's prediction of the lip gap and of
jawOpen, the loudness envelope, its slope).  The search takes the best of 51 offsets, so its confidence is
measured against the null of that maximum: the distribution of the best score over the whole search when the
audio belongs to someone else (audio with the same spectra and random phases; exact covariance, 4000 draws of
the maximum).  ``confidence`` is the z-score of the observed best within that null (foreign audio centres on 0),
``false_alarm_p`` the probability that foreign audio scores at least as high: "how unlikely this peak is if the
audio belonged to someone else".

Verdicts (``judge``), positive offsets meaning the sound comes after the mouth movement (audio late):

- ``in_sync``: a reliable offset (false-alarm probability at most ``alpha``, not at the edge of the search)
  within the ITU-R BT.1359 acceptability window (audio at most 90 ms early, 185 ms late);
- ``offset``: a reliable offset outside it;
- ``mismatch``: the evidence is long enough to tell (a genuine recording of this length would score well above
  the null), and no offset reaches what genuine audio reaches: the audio does not follow this mouth;
- ``too_short``: neither, and the evidence is too short to tell; ``needed_s`` says how many seconds would be;
- ``no_reliable_offset``: long enough, yet ambiguous.

Clips of one recording share its offset: pipeline.quality.lip_sync_pool pools their evidence and gives each clip
its verdict against the recording's offset (``basis`` says which).  Offsets are also given in frames at the clip's
frame rate, in both conventions: ours (``offset_frames``, positive: audio late) and syncnet_python's
(``syncnet_offset_frames``, the opposite sign: its ``evaluate`` compares video frame i with audio frames
i-vshift..i+vshift and reports ``vshift - argmin``, so audio that lags by d frames gives -d).  The score of every
offset (``curve_offsets_ms``, ``curve_scores``) and the null covariance (``null_cov``) are kept per clip: the
viewer draws the curve against its null band, and pooling needs nothing else.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from pipeline.quality.lip_sync_evidence import Evidence, clip_evidence
from pipeline.quality.lip_sync_model import AudioToMouth, model_at
from pipeline.quality.lip_sync_signals import log_mel_frames, moving_average  # noqa: F401 - public helpers

VERDICTS = ("in_sync", "offset", "mismatch", "too_short", "no_reliable_offset")
METHOD = ("mean correlation of 4 mouth/audio signal pairs (cross-speaker audio-to-mouth model, loudness, its "
          "slope) per offset; confidence = z-score of the best offset within the null of the maximum over the "
          "search (phase-randomised audio)")


@dataclass(frozen=True)
class LipSyncParams:
    max_offset_s: float = 0.5
    step_s: float = 0.02
    # A reliable offset: foreign audio would score this high at most this often.  0.003: over 100 clips with
    # foreign audio, in_sync is expected 0.3 times (the calibration test asks for at most once).
    alpha: float = 0.003
    # How far (in null standard deviations) genuine audio must stand above the null for a length to count as
    # long enough to decide, and how far below genuine a clip must stay to be called a mismatch.
    margin: float = 2.0
    early_ms: float = -90.0  # ITU-R BT.1359 acceptability limits
    late_ms: float = 185.0
    min_frames: int = 50
    model: str | None = None  # path of the audio-to-mouth model; None: the shipped one


@lru_cache(maxsize=8)
def _draws(m: int) -> np.ndarray:
    """Fixed standard normal draws (4000 x m): the same clip gets the same confidence on every run."""
    return np.random.default_rng(20).standard_normal((4000, m))


def null_of_max(cov: np.ndarray) -> np.ndarray:
    """Draws of the maximum over the search of unit-variance scores with this lag covariance (sorted)."""
    m = cov.size
    rho = cov / max(cov[0], 1e-12)
    toeplitz = rho[np.abs(np.subtract.outer(np.arange(m), np.arange(m)))]
    values, vectors = np.linalg.eigh(toeplitz)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return np.sort((_draws(m) @ root.T).max(axis=1))


@dataclass(frozen=True)
class Judgement:
    verdict: str
    offset_ms: float | None  # reliable offsets only
    best_offset_ms: float
    confidence: float
    false_alarm_p: float
    threshold_z: float  # the per-offset z the best must reach for false_alarm_p <= alpha
    power_z: float  # what a genuine recording of this length scores at its offset, in null sd
    needed_s: float | None  # too_short: seconds of evidence that would decide
    duration_s: float


def judge(ev: Evidence, genuine_r: float, params: LipSyncParams) -> Judgement:
    sd = ev.null_std
    z = ev.scores / sd
    best = int(np.argmax(z))
    null = null_of_max(ev.null_cov)
    mean, spread = float(null.mean()), float(null.std())
    observed = float(z[best])
    exceed = int(null.size - np.searchsorted(null, observed, side="left"))
    if exceed >= 20:
        p = exceed / null.size
    else:  # the tail beyond the draws: the Gumbel law of a maximum, fit to the draws' mean and spread
        beta = spread * np.sqrt(6.0) / np.pi
        mu = mean - 0.5772156649 * beta
        p = float(-np.expm1(-np.exp(-(observed - mu) / beta)))
    threshold = float(np.quantile(null, 1.0 - params.alpha))
    power = genuine_r / sd
    confidence = (observed - mean) / spread
    best_ms = float(ev.offsets_ms[best])
    needed = None
    at_edge = best in (0, z.size - 1)
    if p <= params.alpha and not at_edge:
        verdict = "in_sync" if params.early_ms <= best_ms <= params.late_ms else "offset"
    elif power >= threshold + params.margin:
        verdict = "mismatch" if observed < power - params.margin else "no_reliable_offset"
    else:
        verdict = "too_short"
        needed = ev.duration_s * ((threshold + params.margin) / max(power, 1e-6)) ** 2
    return Judgement(verdict, best_ms if verdict in ("in_sync", "offset") else None, best_ms, confidence, p,
                     threshold, power, needed, ev.duration_s)


@dataclass(frozen=True)
class LipSync:
    offset_ms: float | None  # None when there is no reliable offset
    confidence: float | None  # z-score of the best offset within the null of the maximum (foreign audio: ~0)
    verdict: str  # VERDICTS
    false_alarm_p: float | None = None  # probability that audio of someone else peaks this high
    best_offset_ms: float | None = None  # where the search peaked, reliable or not
    offset_frames: int | None = None  # offset_ms in frames at the clip's frame rate (positive: audio late)
    syncnet_offset_frames: int | None = None  # the same in syncnet_python's sign (positive: audio early)
    basis: str = "clip"  # clip: its own evidence; recording: its recording's pooled offset
    needed_s: float | None = None  # too_short: seconds of speech that would decide
    power_z: float | None = None
    threshold_z: float | None = None
    duration_s: float | None = None
    fps: float | None = None
    curve_offsets_ms: list[float] | None = None  # every offset searched ...
    curve_scores: list[float] | None = None  # ... its score; the null: mean 0, sd null_std, covariance null_cov
    null_mean: float | None = None
    null_std: float | None = None
    null_cov: list[float] | None = None
    own: dict | None = None  # the clip's own judgement when the verdict comes from its recording
    recording: dict | None = None  # the recording's pooled offset, confidence, clips used
    method: str = METHOD
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("extra")
        return {**out, **self.extra}


def rounded(v: float | None, digits: int) -> float | None:
    return None if v is None else round(float(v), digits)


def judgement_fields(j: Judgement) -> dict:
    """A judgement as stored (the lip_sync metadata's top level, or its ``own``/``recording``)."""
    return {"verdict": j.verdict, "offset_ms": rounded(j.offset_ms, 1), "best_offset_ms": rounded(j.best_offset_ms, 1),
            "confidence": rounded(j.confidence, 3), "false_alarm_p": rounded(j.false_alarm_p, 6),
            "threshold_z": rounded(j.threshold_z, 3), "power_z": rounded(j.power_z, 3),
            "needed_s": rounded(j.needed_s, 1), "duration_s": rounded(j.duration_s, 3)}


def frames_fields(offset_ms: float | None, fps: float | None) -> dict:
    if offset_ms is None or not fps:
        return {"offset_frames": None, "syncnet_offset_frames": None}
    frames = int(round(offset_ms / 1000.0 * fps))
    return {"offset_frames": frames, "syncnet_offset_frames": -frames}


def evidence_fields(ev: Evidence) -> dict:
    return {"curve_offsets_ms": [float(v) for v in ev.offsets_ms], "curve_scores": [round(float(v), 5) for v in ev.scores],
            "null_mean": 0.0, "null_std": round(ev.null_std, 6), "null_cov": [float(f"{v:.6g}") for v in ev.null_cov]}


def stored_evidence(sync: dict) -> Evidence | None:
    """A clip's evidence back from its lip_sync metadata (None for clips measured before it was kept)."""
    if not sync.get("null_cov") or not sync.get("curve_scores"):
        return None
    return Evidence(np.array(sync["curve_offsets_ms"], float), np.array(sync["curve_scores"], float),
                    np.array(sync["null_cov"], float), float(sync.get("duration_s") or 0.0))


def estimate_lip_sync(times_s: np.ndarray, lip_gap: np.ndarray, jaw_open: np.ndarray, context: np.ndarray,
                      context_start_s: float, sample_rate: int, params: LipSyncParams = LipSyncParams(),
                      model: AudioToMouth | None = None) -> LipSync:
    """One clip's lip sync from its own evidence.  ``context``: the clip's audio with at least ``max_offset_s``
    + 0.1 s either side; ``context_start_s``: the clip time of its first sample (negative: before the clip)."""
    times = np.asarray(times_s, np.float64)
    fps = float(1.0 / np.median(np.diff(times))) if times.size > 1 else None
    ok = ~(np.isnan(lip_gap) | np.isnan(jaw_open))
    if ok.sum() < params.min_frames or np.nanstd(lip_gap) < 1e-6:
        return LipSync(None, None, "no_reliable_offset", fps=fps,
                       extra={"reason": "too few frames with a moving face to measure"})
    model = model or model_at(params.model)
    ev = clip_evidence(times, np.asarray(lip_gap, float), np.asarray(jaw_open, float), context, context_start_s,
                       sample_rate, model.weights, model.tap_array, model.n_mels, params.max_offset_s, params.step_s)
    if ev is None:
        return LipSync(None, None, "no_reliable_offset", fps=fps, extra={"reason": "no face to measure"})
    j = judge(ev, model.genuine_r, params)
    fields = judgement_fields(j)
    return LipSync(fields["offset_ms"], fields["confidence"], j.verdict, fields["false_alarm_p"],
                   fields["best_offset_ms"], basis="clip", needed_s=fields["needed_s"], power_z=fields["power_z"],
                   threshold_z=fields["threshold_z"], duration_s=fields["duration_s"], fps=fps,
                   **frames_fields(j.offset_ms, fps), **evidence_fields(ev))
