"""Shot boundaries from decoded frames: hard cuts, and gradual transitions (fades, dissolves).

Our own detector on the frames the pipeline decodes anyway, not PySceneDetect: its default OpenCV dependency
(``opencv-python``) breaks mediapipe's ``cv2``, and it would decode the recording a second time.  Per frame it
keeps a 64-bin colour histogram (4 levels per RGB channel) of a subsampled picture (about 48 x 48 pixels:
about 0.25 ms a frame), and compares neighbours by histogram distance (half the L1 distance: 0 same colours,
1 nothing in common):

- a **cut** at frame i: the distance from frame i-1 to i is large (at least ``cut``) and several times the
  usual distance around it, and the picture does not come back within ``flash_frames`` (a white flash, a
  camera flash or one odd frame has frame i-1 and i+1 alike: no cut);
- a **gradual transition** (fade, dissolve, fade through black): twin comparison - from a frame where the
  step distance rises above ``gradual_step``, the colours' distance from that frame reaches ``gradual``
  within ``max_gradual_s`` while no single step is a cut and the picture keeps changing.  The whole transition is the boundary: no clip may
  hold any frame of it.

The distance of two frames is the larger of their colour histograms' distance and their layout's (mean
brightness of 8 x 8 cells): two talking heads on similar backgrounds share colours, not layout.  A zoom or
pan over one face changes both a little each frame and never accumulates to a cut before it settles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 4  # levels per channel
THUMB = 48  # about this many pixels per side are sampled

GRID = 8  # the picture's layout: mean brightness of GRID x GRID cells
LAYOUT_WEIGHT = 3.0  # a layout difference of 1/3 of full scale counts like colours with nothing in common


def frame_signature(rgb: np.ndarray) -> np.ndarray:
    """(64 + GRID^2,) float32: the colour histogram of an upright RGB frame (summing to 1), then its layout
    (cell brightness in 0-1)."""
    h, w = rgb.shape[:2]
    sy, sx = max(h // THUMB, 1), max(w // THUMB, 1)
    small = rgb[sy // 2:: sy, sx // 2:: sx]
    flat = small.reshape(-1, 3)
    codes = (flat[:, 0] >> 6).astype(np.int32) * 16 + (flat[:, 1] >> 6) * 4 + (flat[:, 2] >> 6)
    hist = np.bincount(codes, minlength=BINS ** 3).astype(np.float32)
    gy, gx = small.shape[0] // GRID, small.shape[1] // GRID
    luma = small[: gy * GRID, : gx * GRID].astype(np.float32).mean(axis=2)
    layout = luma.reshape(GRID, gy, GRID, gx).mean(axis=(1, 3)).reshape(-1) / 255.0
    return np.concatenate([hist / max(hist.sum(), 1.0), layout]).astype(np.float32)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of signatures (broadcasting over leading axes): the larger of the colour histograms' half L1
    distance (0 the same colours, 1 nothing in common) and the weighted mean layout difference."""
    hist = 0.5 * np.abs(a[..., : BINS ** 3] - b[..., : BINS ** 3]).sum(axis=-1)
    layout = LAYOUT_WEIGHT * np.abs(a[..., BINS ** 3:] - b[..., BINS ** 3:]).mean(axis=-1)
    return np.minimum(np.maximum(hist, layout), 1.0)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(distances(a, b))


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The colour histograms' distance alone: what a gradual transition must change (a zoom or a pan over one
    face moves its layout a long way, its colours little)."""
    return 0.5 * float(np.abs(a[: BINS ** 3] - b[: BINS ** 3]).sum())


@dataclass(frozen=True)
class ShotParams:
    cut: float = 0.25  # distance of a cut
    cut_ratio: float = 3.0  # ... and at least this many times the median step around it
    flash_frames: int = 2  # a picture that comes back within this many frames is a flash, not a cut
    gradual: float = 0.25  # colour-histogram distance of a completed gradual transition
    gradual_step: float = 0.04  # a step above this may begin one
    max_gradual_s: float = 2.0
    cut_lookahead: int = 8  # steps after a candidate cut that count in its usual motion (a second before it)


@dataclass(frozen=True)
class Boundary:
    """A shot boundary.  A cut is the instant between frames ``first - 1`` and ``first`` (``last`` = ``first - 1``:
    no frame belongs to it); a gradual transition covers frames ``first`` .. ``last``, which belong to no shot."""

    kind: str  # cut | gradual
    first: int  # first frame of the transition (a cut: the new shot's first frame)
    last: int  # last frame of the transition (a cut: first - 1: no frame belongs to it)
    start_s: float  # time of ``first``
    end_s: float  # time the new shot starts (the frame after ``last``)
    strength: float  # histogram distance across it

    def as_dict(self) -> dict:
        """As stored (the frame indices are the caller's, not the recording's: times only)."""
        return {"kind": self.kind, "start_s": round(self.start_s, 6), "end_s": round(self.end_s, 6),
                "strength": round(self.strength, 4)}


def find_boundaries(signatures: np.ndarray, times_s: np.ndarray, params: ShotParams = ShotParams()) -> list[Boundary]:
    """Shot boundaries of frames with these signatures (N, 64) at these times (N,), in order."""
    n = len(signatures)
    if n < 2:
        return []
    sig = np.asarray(signatures, np.float32)
    times = np.asarray(times_s, np.float64)
    step = distances(sig[1:], sig[:-1])  # step[i-1]: frame i-1 -> i
    out: list[Boundary] = []
    fps = (n - 1) / max(times[-1] - times[0], 1e-6)
    half = cut_window(fps)
    i = 1
    while i < n:
        d = step[i - 1]
        if d >= params.cut:
            verdict, back = cut_test(sig, step, i, half, params)
            if verdict == "flash":  # the picture comes back at frame ``back``; go on from there
                i = back + 1
                continue
            if verdict == "cut":
                out.append(Boundary("cut", i, i - 1, float(times[i]), float(times[i]), float(d)))
                i += 1
                continue
        if d >= params.gradual_step:
            found = _gradual(sig, step, times, i, params)
            if found is not None:
                if out and out[-1].kind == "gradual" and found.first - out[-1].last <= 8:  # one transition
                    found = Boundary("gradual", out[-1].first, found.last, out[-1].start_s, found.end_s,
                                     distance(sig[out[-1].first - 1], sig[min(found.last + 1, n - 1)]))
                    out.pop()
                out.append(found)
                i = found.last + 2
                continue
        i += 1
    return out


def cut_window(fps: float) -> int:
    """How many steps before a candidate cut the usual motion is taken from (about a second)."""
    return max(int(round(fps)), 3)


def cut_test(sig: np.ndarray, step: np.ndarray, i: int, half: int, params: ShotParams) -> tuple[str, int]:
    """("cut" | "flash" | "", frame the picture came back at) for a step into frame i of at least ``params.cut``.

    It reads the steps from ``half`` before frame i to ``params.cut_lookahead`` after it, and the frames up to
    ``flash_frames`` after it: a caller that sees frames as they are decoded (:class:`CutWatch`) can decide
    a cut that many frames later, exactly as this offline pass does.
    """
    n = len(sig)
    d = float(step[i - 1])
    lo, hi = max(0, i - 1 - half), min(n - 1, i - 1 + params.cut_lookahead)
    around = np.concatenate([step[lo: i - 1], step[i: hi]])
    usual = float(np.median(around)) if around.size else 0.0
    back = next((j for j in range(i + 1, min(n, i + 1 + params.flash_frames))
                 if distance(sig[i - 1], sig[j]) < params.cut / 2), None)
    if back is not None:
        return "flash", back
    return ("cut" if d >= params.cut_ratio * max(usual, 1e-3) else ""), -1


class CutWatch:
    """Hard cuts decided while frames are decoded, a few frames behind (``delay``), with the offline test.

    Feed it each frame's signature in order (:meth:`add`); :meth:`decided` says up to which frame every cut is
    known, :meth:`is_cut` whether frame k starts a new shot.  A frame whose step is below ``params.cut`` is
    decided at once, so frames wait only behind a candidate.  The offline :func:`find_boundaries` stays the
    reference (it also finds gradual transitions, and skips past flashes): callers check against it.
    """

    def __init__(self, fps: float, params: ShotParams = ShotParams()) -> None:
        self.params, self.half = params, cut_window(fps)
        self.sig: list[np.ndarray] = []
        self.step: list[float] = []
        self.cuts: set[int] = set()
        self._pending: list[int] = []  # candidate frames not decided yet
        self._flash_until = -1
        self.ended = False

    @property
    def delay(self) -> int:
        return max(self.params.cut_lookahead, self.params.flash_frames) + 1

    def add(self, signature: np.ndarray) -> None:
        self.sig.append(np.asarray(signature, np.float32))
        n = len(self.sig)
        if n > 1:
            self.step.append(float(distances(self.sig[-1], self.sig[-2])))
            if self.step[-1] >= self.params.cut:
                self._pending.append(n - 1)
        self._resolve()

    def end(self) -> None:
        self.ended = True
        self._resolve()

    def _resolve(self) -> None:
        n = len(self.sig)
        while self._pending and (self.ended or n - 1 >= self._pending[0] + self.delay):
            i = self._pending.pop(0)
            if i <= self._flash_until:
                continue  # the offline pass goes on after the frame a flash came back at
            o, e = max(0, i - self.half - 2), i + self.delay + 1  # only the frames the test reads
            verdict, back = cut_test(np.stack(self.sig[o:e]), np.array(self.step[o:e - 1]), i - o, self.half, self.params)
            if verdict == "cut":
                self.cuts.add(i)
            elif verdict == "flash":
                self._flash_until = back + o

    def decided(self) -> int:
        """Every frame before this index is decided (cut or not)."""
        return self._pending[0] if self._pending else len(self.sig)

    def is_cut(self, k: int) -> bool:
        return k in self.cuts


def _gradual(sig: np.ndarray, step: np.ndarray, times: np.ndarray, i: int, params: ShotParams) -> Boundary | None:
    """Twin comparison from frame i - 1 (the last frame before the change); the transition found is then widened
    to every frame whose step stands above the usual motion before it (a fade's first and last frames change
    little, and must not be left in a shot)."""
    start = i - 1
    n = len(sig)
    j = i
    while j < n and times[j] - times[start] <= params.max_gradual_s:
        if step[j - 1] >= params.cut:
            return None  # a cut inside: the cut detector decides
        if colour_distance(sig[start], sig[j]) >= params.gradual:
            fps = _fps(times)
            before = step[max(0, start - int(2 * fps)): max(start - 1, 0)]
            moving = max(1.5 * float(np.median(before)) if before.size else 0.0, params.gradual_step / 2)
            smooth = np.convolve(step, np.ones(3) / 3, mode="same")  # one quiet step does not end a fade
            first = i
            while first - 1 > 0 and smooth[first - 2] > moving:
                first -= 1  # the step into frame first - 1 still belongs to the change
            last = j
            while last + 1 < n and smooth[last] > moving and times[last + 1] - times[first] <= 2 * params.max_gradual_s:
                last += 1
            if colour_distance(sig[first - 1], sig[min(last + 1, n - 1)]) >= params.gradual:  # two shots, not a dip
                first, last = _settled(sig, first, last, int(round(params.max_gradual_s * fps)))
            # A dissolve's first and last frames differ from the shots they join by less than motion does: keep
            # a margin of a quarter of the transition (two frames at least, half a second at most) either side.
            pad = int(np.clip(round(0.25 * (last - first + 1)), 2, round(0.5 * fps)))
            first, last = max(first - pad, 1), min(last + pad, n - 1)
            end = min(last + 1, n - 1)
            end_s = float(times[end]) if last + 1 < n else float(times[-1]) + 1.0 / fps
            return Boundary("gradual", first, last, float(times[first]), end_s, distance(sig[first - 1], sig[end]))
        if step[j - 1] < params.gradual_step / 2:
            return None  # it settled before changing enough: motion, not a transition
        j += 1
    return None


def _settled(sig: np.ndarray, first: int, last: int, reach: int) -> tuple[int, int]:
    """Widen a transition to where each side's picture settles: going forward, the frame from which the distance
    to the last frame before it stays at 90% of where it ends up (its median over the last frames of ``reach``);
    going back, the same against the first frame after it.  Colours and layout of a talking head stay put, so
    the plateau is the other shot."""
    n = len(sig)
    before = sig[max(first - 1, 0)]
    ahead = np.arange(last, min(n, last + reach))
    if ahead.size >= 4:
        d = distances(sig[ahead], before)
        plateau = float(np.median(d[-max(ahead.size // 4, 2):]))
        reached = np.nonzero(d >= 0.9 * plateau)[0]
        last = int(ahead[reached[0]]) if reached.size else last
    after = sig[min(last + 1, n - 1)]
    behind = np.arange(first, max(0, first - reach), -1)
    if behind.size >= 4:
        d = distances(sig[behind], after)
        plateau = float(np.median(d[-max(behind.size // 4, 2):]))
        reached = np.nonzero(d >= 0.9 * plateau)[0]
        first = int(behind[reached[0]]) if reached.size else first
    return max(first, 1), last


def _fps(times: np.ndarray) -> float:
    return (times.size - 1) / max(float(times[-1] - times[0]), 1e-6) if times.size > 1 else 25.0


def shots_between(boundaries: list[Boundary], start_s: float, end_s: float) -> list[tuple[float, float]]:
    """The parts of [start_s, end_s) that no boundary touches: [(start, end)], in order."""
    parts, t = [], start_s
    for b in boundaries:
        if b.end_s <= t or b.start_s >= end_s:
            continue
        if b.start_s > t:
            parts.append((t, min(b.start_s, end_s)))
        t = max(t, b.end_s)
    if t < end_s:
        parts.append((t, end_s))
    return parts
