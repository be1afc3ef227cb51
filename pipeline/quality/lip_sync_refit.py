"""Refit the audio-to-mouth model on a lab's own dataset, and keep it only where it beats the shipped one.

Training material: every clip that has its face file (the lip gap per frame), its blendshapes (jawOpen) and
its wav.  Videos, not clips, are held out: a third of them (at least one; by a seeded hash of their names) are
never fit on, and both models are scored there (the mean score at each held-out clip's best offset within
+-200 ms).  The refit model is adopted only when it scores higher; its ``genuine_r`` comes from its own
training clips, left out one at a time.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.audio.track import decode_audio
from pipeline.dataset.blendshape_table import read_blendshape_table
from pipeline.dataset.clip_files import ClipFiles
from pipeline.face.face_data import read_face_data
from pipeline.quality.lip_sync_model import AudioToMouth, Recording, fit_model, held_out_score

MIN_VIDEOS = 3  # one held out, two to fit on at least
MIN_CLIPS = 6


def clip_recording(root: Path, clip: str, video: str) -> Recording | None:
    """One clip's mouth and audio from its files, or None when it lacks one (a clip of an older version)."""
    files = ClipFiles(Path(root), clip)
    if not (files.face.exists() and files.blendshapes.exists() and files.audio.exists()):
        return None
    table = read_blendshape_table(files.blendshapes, ("jawOpen",))
    lip = read_face_data(files.face)["lip_gap"].astype(np.float64)
    if lip.size != table.time_s.size or np.isnan(lip).mean() > 0.5:
        return None
    wav = decode_audio(files.audio)
    jaw = np.where(table.face, table.matrix(("jawOpen",))[:, 0], np.nan)
    return Recording(f"{video}/{clip}", table.time_s, lip, jaw, wav.samples, 0.0, wav.sample_rate)


@dataclass
class Refit:
    model: AudioToMouth | None  # None: too little material, or not better than the shipped model
    adopted: bool
    own_score: float | None
    shipped_score: float | None
    train_videos: list[str] = field(default_factory=list)
    held_out_videos: list[str] = field(default_factory=list)
    clips: int = 0
    reason: str = ""

    def summary(self) -> dict:
        return {"adopted": self.adopted, "own_score": None if self.own_score is None else round(self.own_score, 4),
                "shipped_score": None if self.shipped_score is None else round(self.shipped_score, 4),
                "train_videos": len(self.train_videos), "held_out_videos": self.held_out_videos,
                "clips": self.clips, "reason": self.reason}


def split_videos(videos: list[str], seed: int = 0) -> tuple[list[str], list[str]]:
    order = sorted(videos, key=lambda v: hashlib.sha256(f"{seed}:{v}".encode()).hexdigest())
    held = order[: max(1, len(order) // 3)]
    return sorted(set(order) - set(held)), sorted(held)


def refit(by_video: dict[str, list[Recording]], shipped: AudioToMouth, seed: int = 0) -> Refit:
    by_video = {v: recs for v, recs in by_video.items() if recs}
    clips = sum(len(r) for r in by_video.values())
    if len(by_video) < MIN_VIDEOS or clips < MIN_CLIPS:
        return Refit(None, False, None, None, clips=clips,
                     reason=f"needs {MIN_VIDEOS} videos and {MIN_CLIPS} clips with face data "
                            f"(has {len(by_video)} and {clips})")
    train, held = split_videos(list(by_video), seed)
    model = fit_model([r for v in train for r in by_video[v]], ridge=shipped.ridge)
    held_recs = [r for v in held for r in by_video[v]]
    own, base = held_out_score(model, held_recs), held_out_score(shipped, held_recs)
    adopted = own > base
    return Refit(model if adopted else None, adopted, own, base, train, held, clips,
                 "scores higher than the shipped model on held-out videos" if adopted
                 else "the shipped model scores at least as high on held-out videos")
