"""Recompute the QC of clips already on disk (written by an earlier version), without re-cutting anything.

Per clip: the raw blendshapes and head pose come from its CSV; the face
geometry and the visual samples need pictures, so its frames are tracked again
(the source's frames of the clip's span when the source is still there, the
clip file otherwise); the audio around the clip comes from the source (or the
clip's wav, without context); speech per frame from webrtcvad on that audio
with the dataset's VAD settings.  Then the same :func:`assess_clip` as fresh
clips, and the metadata file is rewritten atomically with the new fields.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.audio.track import SAMPLE_RATE, AudioTrack, decode_audio
from pipeline.face.blendshape_names import HEAD_POSE_NAMES as HEAD_POSE, MEDIAPIPE_NAMES
from pipeline.dataset.blendshape_table import read_blendshape_table
from pipeline.dataset.clip_files import ClipFiles
from pipeline.quality.clip_quality import assess_clip
from pipeline.media.cut import SpanReader
from pipeline.media.decode import VideoFrameReader
from pipeline.face.extract import track_frames
from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.face.landmarks import FaceLandmarkTracker
from pipeline.audio.segment import SegmentParams, SpeechFlags, vad_flags
from pipeline.quality.visual_qc import FaceCounter, VisualSampler

CONTEXT_S = 1.0


def read_raw_table(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(times, face, raw (F, 52), pose (F, 3)) from a blendshape CSV as `extract` writes it."""
    table = read_blendshape_table(path, (*MEDIAPIPE_NAMES, *HEAD_POSE))
    return table.time_s, table.face, table.matrix(MEDIAPIPE_NAMES), table.matrix(HEAD_POSE)


def requalify_clip(root: Path, name: str, source: Path | None, tracker: FaceLandmarkTracker,
                   counter: FaceCounter | None, audio: AudioTrack | None) -> dict:
    """New QC for one complete clip; rewrites its metadata file and returns it."""
    files = ClipFiles(root, name)
    meta = json.loads(files.metadata.read_text(encoding="utf-8"))
    times, face, raw, pose = read_raw_table(files.blendshapes)
    start, end = float(meta["source_start_s"]), float(meta["source_end_s"])
    tracker.restart()
    sampler = VisualSampler(counter)
    frames = SpanReader(source, start, end) if source is not None else VideoFrameReader(files.video)
    records = list(track_frames(frames, tracker, on_result=sampler))
    geometry = np.full((len(times), len(GEOMETRY_NAMES)), np.nan, np.float32)
    for i, record in enumerate(records[: len(times)]):
        if record.geometry is not None and face[i]:
            geometry[i] = record.geometry
    if audio is not None:
        context = audio.excerpt(start - CONTEXT_S, end + CONTEXT_S)
    else:
        wav = decode_audio(files.audio)
        context = AudioTrack(wav.samples, wav.sample_rate, start)
    segment = SegmentParams(**{k: v for k, v in (meta.get("params", {}).get("segment") or {}).items()
                               if k in SegmentParams.__dataclass_fields__})
    flags, _, _ = vad_flags(context, segment)
    speech = SpeechFlags(context.start_time_s, segment.frame_ms / 1000.0, flags).at(start + times)
    assessed = assess_clip(raw, face, times, pose, geometry, speech, sampler.samples, context.samples,
                           context.start_time_s - start, context.sample_rate)
    meta.update({"quality": assessed.quality, "quality_score": assessed.score, "quality_reasons": assessed.reasons,
                 "lip_sync": assessed.lip_sync.as_dict(), "face_speaking": assessed.face_speaking})
    meta.pop("av_sync", None)
    with atomic_output(files.metadata) as fh:
        json.dump(meta, fh, indent=1)
    return meta


def requalify_folder(root: str | os.PathLike[str], source: str | os.PathLike[str] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Every complete clip of a make_dataset folder; then its manifest is rewritten. Returns the clips' metadata."""
    from pipeline.dataset.build import write_manifest

    root = Path(root)
    names = sorted(p.name[: -len("_metadata.json")] for p in (root / "data").glob("clip_*_metadata.json"))
    src = Path(source) if source is not None and Path(source).is_file() else None
    audio = decode_audio(src, SAMPLE_RATE) if src is not None else None
    done: list[dict] = []
    with FaceLandmarkTracker() as tracker:
        counter = FaceCounter()
        try:
            for k, name in enumerate(names):
                done.append(requalify_clip(root, name, src, tracker, counter, audio))
                if progress:
                    progress(k + 1, len(names))
        finally:
            counter.close()
    from pipeline.dataset.recording_sync import pool_clips

    _, done = pool_clips(root, done)
    write_manifest(root, done)
    return done
