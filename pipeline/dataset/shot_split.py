"""One shot per clip: a speech span whose frames cross a shot boundary becomes one clip per side.

The clip worker decodes its span (and the second before it, ``LEAD_IN_S``: the frames that show what came
before the speech) once.  While it decodes, :func:`watched` decides hard cuts a few frames behind the decoder
(pipeline.media.shots.CutWatch, the offline test on the frames seen so far); at each one the face tracker, the
smoother, the visual sampler and the clip encoder start again, so the frames after a cut form a segment that
is exactly what processing it alone would give.  After the decode the whole span's detector (the reference:
it also finds fades and dissolves) gives the boundaries.  When one falls among the clip's own frames, the
span is cut there: each side that holds at least ``min_clip`` of the speech is a clip of its own, the others
are dropped and listed with the reason "shot change".  A side that begins a segment takes that segment's rows
and clip file (``part_of.tracking`` "span"); any other side (one after a gradual transition) is decoded and
tracked again from its own first frame ("own").  The frames of a gradual transition belong to neither side.
The first side kept keeps the span's name (clip_0004); the next ones add _1, _2.

A span's result is then a "split" record ({"clip", "split": True, "parts": [clip metadata...], "dropped"})
instead of one clip's metadata; ``span_clips`` and ``span_dropped`` read either.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

from pipeline.dataset.clip_files import ClipFiles, load_complete_metadata
from pipeline.media.shots import Boundary, CutWatch, shots_between

LEAD_IN_S = 1.0
EPS = 1e-6
PRE_ROLL_S = 0.04  # less speech than one frame at 25 fps on one side of a cut: only the pre-roll frame was there


def inside(boundaries: list[Boundary], start_s: float, end_s: float) -> list[Boundary]:
    """The boundaries among the frames of [start_s, end_s) (container time): a cut after the first frame, or a
    transition that holds any of them."""
    return [b for b in boundaries if b.end_s > start_s + EPS and b.start_s < end_s - EPS]


SHOT_CHANGE = "shot_change"  # the "cause" of a dropped entry left at a shot boundary


def part_spans(boundaries: list[Boundary], span_start_s: float, span_end_s: float,
               min_clip: float) -> tuple[list[tuple[float, float]], list[dict]]:
    """(the speech span's sides that are long enough, the dropped ones as report entries)."""
    kept, dropped = [], []
    for a, b in shots_between(boundaries, span_start_s, span_end_s):
        if b - a >= min_clip:
            kept.append((a, b))
        elif b - a < PRE_ROLL_S:
            continue  # the pre-roll frame was on the other side of a cut: the clip starts on the shot's first frame
        else:
            dropped.append({"start_s": round(a, 3), "end_s": round(b, 3), "duration_s": round(b - a, 3),
                            "cause": SHOT_CHANGE, "reason": f"shot change: only {b - a:.1f} s of this speech run is in one shot "
                                      f"(min_clip {min_clip:g} s)"})
    return kept, dropped


def part_name(span_clip: str, k: int) -> str:
    return span_clip if k == 0 else f"{span_clip}_{k}"


def span_clips(result: dict) -> list[dict]:
    """The clips' metadata of a span's result (one clip, or the sides of a split span)."""
    return list(result["parts"]) if result.get("split") else [result]


def span_dropped(result: dict) -> list[dict]:
    return list(result.get("dropped") or []) if result.get("split") else []


def load_span(root: Path, name: str, params_key: str) -> dict | None:
    """A span's result when it is complete on disk for these parameters (every side of a split span), else None."""
    first = load_complete_metadata(ClipFiles(Path(root), name), params_key)
    if first is None:
        return None
    shot = first.get("shot") or {}
    if not shot.get("parts"):
        return first
    parts = [first]
    for other in shot["parts"][1:]:
        meta = load_complete_metadata(ClipFiles(Path(root), other), params_key)
        if meta is None:
            return None
        parts.append(meta)
    return {"clip": name, "split": True, "parts": parts, "dropped": shot.get("dropped") or []}


def watched(frames, reader, fps_of) -> Iterator[tuple[bool, object]]:
    """(starts a new shot, frame) for each frame of a SpanReader's iteration, in order, each released once a
    :class:`CutWatch` has decided whether a hard cut comes before it (frames wait only behind a candidate
    step, at most ``CutWatch.delay`` frames).  ``reader.signatures`` holds the lead-in's signatures and then
    one per span frame; ``fps_of()`` the stream's nominal rate once iteration has begun."""
    held: deque = deque()
    watch: CutWatch | None = None
    base = 0
    for frame in frames:
        if watch is None:
            watch = CutWatch(fps_of())
            lead = [sig for t, sig in list(reader.signatures) if t < frame.source_time_s - EPS]
            for sig in lead:
                watch.add(sig)
            base = len(lead)
        watch.add(reader.signatures[base + frame.index][1])
        held.append(frame)
        while held and base + held[0].index < watch.decided():
            first = held.popleft()
            yield first.index > 0 and watch.is_cut(base + first.index), first
    if watch is not None:
        watch.end()
        while held:
            first = held.popleft()
            yield first.index > 0 and watch.is_cut(base + first.index), first


def segment_for(starts: list[float], first_durations: list[float], a: float) -> int | None:
    """The segment (tracked from its own first frame) whose first frame is the one shown at time ``a``."""
    for k, (s, d) in enumerate(zip(starts, first_durations)):
        if s - EPS <= a < s + d - EPS:
            return k
    return None
