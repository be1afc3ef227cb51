"""Correct a recording's A/V offset (``correct_av_offset``): where its pooled lip-sync offset is reliable and not
zero, every clip is written again with its audio shifted by it, so the sound of each frame is where the mouth is.

Per clip: the wav, the mp4's audio track (its video packets copied untouched) and the audio features are made
from the source's audio of [start + offset, end + offset) (positive offset: the audio was late, so later audio
is taken); the lip sync is measured again on the shifted audio (it then peaks near 0); the metadata records
``av_offset_correction_ms`` and the audio's span in the source, and lists the files' new sizes and hashes.
A clip already corrected (a rerun) is left as it is.  The pictures, blendshapes and face data never change.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.audio.features import FeatureParams
from pipeline.audio.track import AudioTrack
from pipeline.dataset.blendshape_table import read_blendshape_table
from pipeline.dataset.clip_files import ClipFiles, describe_files
from pipeline.dataset.clip_job import AUDIO_CONTEXT_S, write_clip_audio
from pipeline.dataset.recording_sync import with_sync
from pipeline.face.face_data import read_face_data
from pipeline.media.cut import AudioFormat, SourceAudio
from pipeline.media.remux import replace_audio
from pipeline.quality.lip_sync import LipSyncParams, estimate_lip_sync

MIN_CORRECTION_MS = 20.0  # one step of the offset search: below it there is nothing to correct


def correction_for(recording: dict | None) -> float | None:
    """The offset to correct by (ms), or None: only a reliable recording offset of at least one search step."""
    if not recording or recording.get("verdict") not in ("in_sync", "offset"):
        return None
    offset = recording.get("offset_ms")
    return float(offset) if offset is not None and abs(offset) >= MIN_CORRECTION_MS else None


def correct_clip(root: Path, meta: dict, source: Path, audio: AudioTrack, offset_ms: float,
                 feature_params: FeatureParams, lip: LipSyncParams = LipSyncParams()) -> dict:
    """One clip with its audio shifted by ``offset_ms``; returns its new metadata (written atomically, last)."""
    if meta.get("av_offset_correction_ms") is not None:
        return meta
    files = ClipFiles(Path(root), meta["clip"])
    shift = offset_ms / 1000.0
    start, end = float(meta["source_start_s"]), float(meta["source_end_s"])
    lo, hi = start + shift, end + shift
    table = read_blendshape_table(files.blendshapes, ("jawOpen",))
    context = audio.excerpt(lo - AUDIO_CONTEXT_S, hi + AUDIO_CONTEXT_S)
    samples, shapes, params = write_clip_audio(files, context, lo, hi, table.time_s, float(meta["fps"]),
                                               feature_params)
    fmt = AudioFormat.of(source)
    if files.video.is_file():  # no clip mp4 with clip_video none
        replace_audio(files.video, SourceAudio(source, lo, hi, fmt), fmt.rate, fmt.layout)
    if files.face.exists():
        lip_gap = read_face_data(files.face)["lip_gap"].astype(np.float64)
        jaw = np.where(table.face, table.matrix(("jawOpen",))[:, 0], np.nan)
        sync = estimate_lip_sync(table.time_s, lip_gap, jaw, context.samples, context.start_time_s - lo,
                                 context.sample_rate, lip).as_dict()
    else:  # a clip of an older version: the curve moves with the audio; its edge is no longer searched
        sync = {**meta.get("lip_sync", {}), "verdict": "no_reliable_offset", "offset_ms": None,
                "null_cov": None, "reason": "measured before the correction; no face data to measure again"}
    meta = with_sync(meta, sync)
    meta["av_offset_correction_ms"] = round(offset_ms, 1)
    meta["audio"] = {**meta.get("audio", {}), "samples": int(samples.size),
                     "duration_s": round(samples.size / context.sample_rate, 6), "features": shapes,
                     "feature_params": params, "source_span_s": [round(lo, 6), round(hi, 6)]}
    meta["files"] = describe_files(files)
    with atomic_output(files.metadata) as fh:
        json.dump(meta, fh, indent=1)
    return meta
