"""Speech segmentation: webrtcvad + an energy floor -> clip spans.

Steps, each visible in the report: VAD per frame; frames far below the
recording's speech level are never speech (webrtcvad alone calls faint steady
noise after digital silence speech); runs separated by less than ``max_gap``
are merged, then merged runs shorter than ``min_speech`` are dropped (noise
blips); runs longer than ``max_clip`` are split at the quietest point near
equal division; spans shorter than ``min_clip`` are dropped and listed, never
silently.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.audio.track import AudioTrack
from pipeline.runs import true_runs


@dataclass(frozen=True)
class SegmentParams:
    vad_mode: int = 2
    frame_ms: int = 30
    min_speech: float = 0.4
    max_gap: float = 0.6
    min_clip: float = 20.0
    max_clip: float = 180.0
    energy_floor_db: float = 45.0  # frames this far below the speech level are silence

    def validate(self) -> None:
        if self.vad_mode not in (0, 1, 2, 3):
            raise ValueError("vad_mode must be 0, 1, 2 or 3")
        if self.frame_ms not in (10, 20, 30):
            raise ValueError("frame_ms must be 10, 20 or 30 (webrtcvad's frame sizes)")
        if self.min_clip <= 0 or self.max_clip <= self.min_clip:
            raise ValueError("need 0 < min_clip < max_clip")
        if self.min_speech < 0 or self.max_gap < 0:
            raise ValueError("min_speech and max_gap must be >= 0")


@dataclass(frozen=True)
class Span:
    start_s: float  # container time
    end_s: float
    muted: bool = False  # a muted shot: a stretch without speech (muted_spans), not a speech span

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SpeechFlags:
    """VAD decisions over a stretch of the recording (a clip's worker gets its own stretch)."""

    start_s: float  # container time of flags[0]
    frame_s: float
    flags: np.ndarray  # bool per VAD frame (after the energy floor)

    def at(self, times_s: np.ndarray) -> np.ndarray:
        """The decision of the VAD frame containing each container time (False outside the stretch)."""
        index = np.floor((np.asarray(times_s) - self.start_s) / self.frame_s + 1e-9).astype(np.int64)
        inside = (index >= 0) & (index < self.flags.size)
        out = np.zeros(index.shape, bool)
        out[inside] = self.flags[index[inside]]
        return out

    def ratio(self, start_s: float, end_s: float) -> float:
        """Fraction of VAD frames in [start_s, end_s) marked speech (container time)."""
        lo = max(int(math.floor((start_s - self.start_s) / self.frame_s + 1e-9)), 0)
        hi = min(int(math.ceil((end_s - self.start_s) / self.frame_s - 1e-9)), self.flags.size)
        return float(self.flags[lo:hi].mean()) if hi > lo else 0.0


@dataclass
class Segmentation:
    clips: list[Span]
    dropped: list[dict]  # {"start_s", "end_s", "duration_s", "reason"}
    speech_runs: list[Span]  # merged across short gaps, runs under min_speech dropped, before min/max_clip
    frame_s: float
    speech_flags: np.ndarray  # bool per VAD frame (after the energy floor)
    speech_level_db: float | None
    floor_db: float | None
    params: dict = field(default_factory=dict)

    origin_s: float = 0.0  # container time of speech_flags[0]

    def speech_ratio(self, start_s: float, end_s: float) -> float:
        """Fraction of VAD frames in [start_s, end_s) marked speech (times in container time)."""
        return SpeechFlags(self.origin_s, self.frame_s, self.speech_flags).ratio(start_s, end_s)

    def flags_between(self, start_s: float, end_s: float) -> SpeechFlags:
        """The VAD decisions covering [start_s, end_s), a small copy to hand to a clip's worker."""
        return flags_between(self.speech_flags, self.origin_s, self.frame_s, start_s, end_s)


def flags_between(flags: np.ndarray, origin_s: float, frame_s: float, start_s: float, end_s: float) -> SpeechFlags:
    """A copy of the VAD decisions (``flags[0]`` at container time ``origin_s``) covering [start_s, end_s)."""
    lo = max(int(math.floor((start_s - origin_s) / frame_s)), 0)
    hi = max(min(int(math.ceil((end_s - origin_s) / frame_s)), flags.size), lo)
    return SpeechFlags(origin_s + lo * frame_s, frame_s, np.array(flags[lo:hi], bool))


def frame_energy_db(pcm: np.ndarray, frame_len: int) -> np.ndarray:
    """RMS level of consecutive frames in dBFS (no float64 copy of a long recording)."""
    frames = pcm[: pcm.size // frame_len * frame_len].reshape(-1, frame_len)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frame_len
    return 10.0 * np.log10(np.maximum(power, 1e-20))


def vad_flags(audio: AudioTrack, params: SegmentParams,
              energy: np.ndarray | None = None) -> tuple[np.ndarray, float | None, float | None]:
    """Speech flag per frame, the speech level and the energy floor (dBFS)."""
    import webrtcvad

    frame_len = audio.sample_rate * params.frame_ms // 1000
    pcm16 = (np.clip(audio.samples, -1.0, 1.0) * 32767.0).astype("<i2")
    count = pcm16.size // frame_len
    vad = webrtcvad.Vad(params.vad_mode)
    raw = pcm16[: count * frame_len].tobytes()
    step = frame_len * 2
    flags = np.fromiter((vad.is_speech(raw[i * step:(i + 1) * step], audio.sample_rate) for i in range(count)),
                        dtype=bool, count=count)
    energy = (frame_energy_db(audio.samples, frame_len) if energy is None else energy)[:count]
    if not flags.any():
        return flags, None, None
    level = float(np.percentile(energy[flags], 90))
    floor = level - params.energy_floor_db
    return flags & (energy >= floor), level, floor


def split_long(span: Span, max_clip: float, energy: np.ndarray, origin: float, frame_s: float) -> list[Span]:
    """Split at the quietest frame within +-15% of each equal-division point."""
    parts = math.ceil(span.duration_s / max_clip)
    if parts <= 1:
        return [span]
    cuts = [span.start_s]
    for k in range(1, parts):
        target = span.start_s + span.duration_s * k / parts
        radius = 0.15 * span.duration_s / parts
        lo = int((target - radius - origin) / frame_s)
        hi = int((target + radius - origin) / frame_s) + 1
        lo, hi = max(lo, 0), min(hi, energy.size)
        window = energy[lo:hi]
        best = lo + int(np.argmin(window)) if window.size else int((target - origin) / frame_s)
        cuts.append(origin + (best + 0.5) * frame_s)
    cuts.append(span.end_s)
    return [Span(a, b) for a, b in zip(cuts[:-1], cuts[1:])]


def segment_speech(audio: AudioTrack, params: SegmentParams = SegmentParams()) -> Segmentation:
    params.validate()
    frame_s = params.frame_ms / 1000.0
    origin = audio.start_time_s
    energy = frame_energy_db(audio.samples, int(audio.sample_rate * frame_s))
    flags, level, floor = vad_flags(audio, params, energy)
    to_span = lambda a, b: Span(origin + a * frame_s, origin + b * frame_s)  # noqa: E731
    joined: list[Span] = []
    for span in (to_span(a, b) for a, b in true_runs(flags)):
        if joined and span.start_s - joined[-1].end_s < params.max_gap:
            joined[-1] = Span(joined[-1].start_s, span.end_s)
        else:
            joined.append(span)
    merged = [span for span in joined if span.duration_s >= params.min_speech]
    clips: list[Span] = []
    dropped: list[dict] = []
    for span in merged:
        for part in split_long(span, params.max_clip, energy, origin, frame_s):
            if part.duration_s < params.min_clip:
                dropped.append({"start_s": round(part.start_s, 3), "end_s": round(part.end_s, 3),
                                "duration_s": round(part.duration_s, 3),
                                "reason": f"shorter than min_clip ({params.min_clip:g} s)"})
            else:
                clips.append(part)
    return Segmentation(clips, dropped, merged, frame_s, flags, level, floor, asdict(params), origin)


MUTED_MIN_S, MUTED_MAX_S = 3.0, 30.0  # Audio2Face-3D's shot lengths
MUTED_MARGIN_S = 0.5  # kept clear of speech on either side


def muted_spans(seg: Segmentation, start_s: float, end_s: float, share: float) -> list[Span]:
    """Muted shots: stretches of [start_s, end_s) with no speech run (MUTED_MARGIN_S clear of speech), MUTED_MIN_S
    to MUTED_MAX_S long (a longer silence gives equal pieces), the longest first while their total stays within
    ``share`` of the speech clips' seconds; in time order.  Whether a face is there is the clip worker's business
    (a shot without one fails like any clip, saying so)."""
    if share <= 0:
        return []
    runs = sorted((r.start_s, r.end_s) for r in seg.speech_runs)
    gaps, cursor = [], start_s
    for a, b in runs:
        gaps.append((cursor, a))
        cursor = max(cursor, b)
    gaps.append((cursor, end_s))
    pieces: list[Span] = []
    for a, b in gaps:
        a = a + (MUTED_MARGIN_S if a > start_s else 0.0)
        b = b - (MUTED_MARGIN_S if b < end_s else 0.0)
        if b - a < MUTED_MIN_S:
            continue
        parts = math.ceil((b - a) / MUTED_MAX_S)
        step = (b - a) / parts
        pieces += [Span(a + k * step, a + (k + 1) * step, muted=True) for k in range(parts)]
    budget = share * sum(c.duration_s for c in seg.clips if not c.muted)
    chosen, total = [], 0.0
    for piece in sorted(pieces, key=lambda p: -p.duration_s):  # the longest that still fit, never above the share
        if total + piece.duration_s <= budget + 1e-9:
            chosen.append(piece)
            total += piece.duration_s
    return sorted(chosen, key=lambda p: p.start_s)
