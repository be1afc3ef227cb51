"""Process one cut clip: blendshapes, audio features, QC, metadata (written last).

Runs in a worker process; each process keeps one MediaPipe tracker and
restarts its tracking for every clip.  Everything is written to temporary
names and renamed, the metadata file last, so "metadata exists" means "clip
complete".
"""
from __future__ import annotations

import json
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_output
from .blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES
from .clip_files import ClipFiles, describe_files
from .decode import VideoFrameReader
from .prefetch import prefetch
from .extract import track_frames
from .features import DEFAULT_FEATURES, FeatureParams, compute_features
from .frame_writers import CsvFrameWriter, FrameRecord
from .landmarks import FaceLandmarkTracker
from .qc import QcParams, estimate_av_lag, run_qc
from .smoothing import make_smoother


class ClipFailed(Exception):
    """This clip cannot become part of the dataset; the message says why."""


@dataclass(frozen=True)
class ClipJob:
    root: str
    name: str
    index: int
    source: str
    source_start_s: float
    source_end_s: float
    audio_padded_s: float
    speech_ratio: float
    params_key: str
    sync_context: np.ndarray  # 16 kHz audio from max_lag before the clip to max_lag after it
    sync_context_start_s: float  # clip time of sync_context[0] (negative: before the clip)
    params: dict = field(default_factory=dict)
    smooth: str = "none"
    feature_params: FeatureParams = field(default_factory=FeatureParams)
    qc: QcParams = field(default_factory=QcParams)
    model: str | None = None


_TRACKER: dict[str | None, FaceLandmarkTracker] = {}


def tracker_for(model: str | None) -> FaceLandmarkTracker:
    if model not in _TRACKER:
        _TRACKER[model] = FaceLandmarkTracker(model)
    else:
        _TRACKER[model].restart()
    return _TRACKER[model]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32767.0, rate


def write_table(path: Path, records: list[FrameRecord], meta: dict) -> None:
    with atomic_output(path) as handle:
        writer = CsvFrameWriter(handle, meta)
        for record in records:
            writer.write(record)


def missing_ranges(face: np.ndarray) -> list[list[int]]:
    """[first, last] frame pairs of runs without a face."""
    padded = np.concatenate([[False], ~face, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [[int(a), int(b) - 1] for a, b in zip(edges[::2], edges[1::2])]


def process_clip(job: ClipJob) -> dict:
    files = ClipFiles(Path(job.root), job.name)
    clock = time.perf_counter()
    tracker = tracker_for(job.model)
    records = list(track_frames(prefetch(VideoFrameReader(files.video)), tracker, make_smoother(job.smooth)))
    if not records:
        raise ClipFailed(f"{files.video.name}: no video frame decodes")
    times = np.array([r.time_s for r in records])
    face = np.array([r.face for r in records], dtype=bool)
    raw = np.full((len(records), len(MEDIAPIPE_NAMES)), np.nan, np.float32)
    pose = np.full((len(records), 3), np.nan, np.float32)
    for i, r in enumerate(records):
        if r.face:
            raw[i] = r.blendshapes
            if r.head_pose is not None:
                pose[i] = r.head_pose
    if not face.any():
        raise ClipFailed("no face found in any frame")
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    table_meta = {"source": files.video.name, "fps": fps}
    write_table(files.blendshapes, records, table_meta)
    timings = {"blendshapes_s": time.perf_counter() - clock}
    clock = time.perf_counter()

    samples, rate = read_wav(files.wav)
    features = compute_features(samples, rate, times, DEFAULT_FEATURES, job.feature_params)
    feature_params = features.pop("_params")
    with atomic_output(files.features, mode="wb") as fh:
        np.savez(fh, **features, sample_rate=np.int64(rate), fps=np.float64(fps),
                 params=np.array(json.dumps(feature_params)))

    timings["features_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    qc = run_qc(raw, face, times, job.qc)
    with atomic_output(files.mask, mode="wb") as fh:
        np.save(fh, qc.mask)
    clean = [FrameRecord(r.frame, r.time_s, bool(qc.mask[i]), qc.values[i] if qc.mask[i] else None,
                         pose[i] if qc.mask[i] and not np.isnan(pose[i]).any() else None)
             for i, r in enumerate(records)]
    write_table(files.blendshapes_clean, clean, table_meta)
    sync = estimate_av_lag(qc.values[:, MEDIAPIPE_NAMES.index("jawOpen")], times, job.sync_context,
                           job.sync_context_start_s, rate, job.qc)

    timings["qc_s"] = time.perf_counter() - clock
    duration = float(job.source_end_s - job.source_start_s)
    metadata = {
        "clip": job.name,
        "index": job.index,
        "source": job.source,
        "source_start_s": round(job.source_start_s, 6),
        "source_end_s": round(job.source_end_s, 6),
        "duration_s": round(duration, 6),
        "fps": round(fps, 6),
        "frames": len(records),
        "face_frames": int(face.sum()),
        "missing_frames": int((~face).sum()),
        "missing_ranges": missing_ranges(face),
        "quality": qc.report(),
        "quality_score": qc.score,
        "av_sync": asdict(sync),
        "speech_ratio": round(job.speech_ratio, 4),
        "audio": {"sample_rate": rate, "samples": int(samples.size), "duration_s": round(samples.size / rate, 6),
                  "channels": 1, "format": "PCM 16-bit WAV", "padded_s": round(job.audio_padded_s, 6),
                  "features": {name: list(features[name].shape[1:]) for name in DEFAULT_FEATURES},
                  "feature_params": feature_params},
        "blendshape_names": list(MEDIAPIPE_NAMES),
        "head_pose_names": list(HEAD_POSE_NAMES),
        "smoothing": job.smooth,
        "params": job.params,
        "params_key": job.params_key,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "files": describe_files(files),
    }
    with atomic_output(files.metadata) as fh:
        json.dump(metadata, fh, indent=1)
    return metadata
