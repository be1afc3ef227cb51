"""Why a finished job kept fewer clips than its recording's speech allows, in one sentence, and what would help."""
from __future__ import annotations

import math
from dataclasses import dataclass

from catalog.models import Video
from pipeline.dataset.options import BY_NAME, DEFAULTS


@dataclass
class Shortfall:
    sentence: str
    suggested_min_clip: float | None = None  # reprocessing with this keeps the dropped speech runs


def seconds_list(values: list[float]) -> str:
    text = [f"{v:.1f} s" for v in values]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + f" and {text[-1]}"


def shortfall(video: Video) -> Shortfall | None:
    """None when nothing was lost (or the job has not finished)."""
    if video.status != Video.Status.DONE:
        return None
    report = video.report or {}
    min_clip = float((video.params or {}).get("min_clip", DEFAULTS["min_clip"]))
    short = sorted((float(d.get("duration_s", 0)) for d in report.get("dropped_segments") or []
                    if str(d.get("reason", "")).startswith("shorter than min_clip")), reverse=True)
    failed = report.get("failed_clips") or []
    clips = (report.get("totals") or {}).get("clips", video.clips_done)
    parts = []
    suggestion = None
    if short:
        runs = "speech run" if len(short) == 1 else "speech runs"
        if len(short) <= 3:
            parts.append(f"{len(short)} {runs} of {seconds_list(short)} {'was' if len(short) == 1 else 'were'} "
                         f"shorter than min_clip {min_clip:g} s")
        else:
            parts.append(f"{len(short)} {runs} ({sum(short):.1f} s in all, the longest {short[0]:.1f} s) were "
                         f"shorter than min_clip {min_clip:g} s")
        low = BY_NAME["min_clip"].low
        candidate = max(low, math.floor(short[-1]))  # keeps every dropped run
        if candidate < min_clip:
            suggestion = float(candidate)
    if failed:
        parts.append(f"{len(failed)} clip{'s' if len(failed) != 1 else ''} failed (see the report)")
    if not parts:
        if clips:
            return None
        return Shortfall("No speech was found in this recording (webrtcvad heard none, or the audio is silent).")
    head = "No clip was kept: " if not clips else f"{clips} clip{'s' if clips != 1 else ''} kept; "
    return Shortfall(head + "; ".join(parts) + ".", suggestion)
