"""Process one clip: one decode of its span of the source feeds the face tracker and the clip's encoder,
then audio features, QC and metadata (written last).

Runs in a worker process; each process keeps one MediaPipe tracker and
restarts its tracking for every clip.  The blendshapes come from the source's
own decoded frames, never from the clip file (a lossy re-encode for viewing).
Everything is written to temporary names and renamed, the metadata file last,
so "metadata exists" means "clip complete".
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_output
from .audio import AudioTrack, write_wav
from .blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES
from .clip_files import ClipFiles, describe_files
from .cut import AudioFormat, BackgroundClipEncoder, ClipEncoder, EncodeSettings, SpanFrame, SourceAudio, SpanReader
from .extract import track_frames
from .features import DEFAULT_FEATURES, FeatureParams, compute_features
from .frame_writers import CsvFrameWriter, FrameRecord
from .landmarks import FaceLandmarkTracker
from .prefetch import prefetch
from .clip_quality import assess_clip
from .face_geometry import GEOMETRY_NAMES
from .qc import QcParams
from .runs import true_runs
from .segment import SpeechFlags
from .smoothing import make_smoother
from .visual_qc import FaceCounter, VisualSampler

AUDIO_CONTEXT_S = 1.0  # audio kept around a span: edge frames' windows, the lag search, clip start rounding


class ClipFailed(Exception):
    """This clip cannot become part of the dataset; the message says why."""


@dataclass(frozen=True)
class ClipJob:
    root: str
    name: str
    index: int
    source_path: str
    source_name: str  # what the metadata calls the recording (an upload's file has a server-chosen name)
    span_start_s: float  # speech span in container time; the clip covers the frames shown during it
    span_end_s: float
    audio: AudioTrack  # 16 kHz mono from AUDIO_CONTEXT_S before the span to AUDIO_CONTEXT_S after it
    speech: SpeechFlags
    params_key: str
    params: dict = field(default_factory=dict)
    smooth: str = "none"
    feature_params: FeatureParams = field(default_factory=FeatureParams)
    qc: QcParams = field(default_factory=QcParams)
    model: str | None = None
    encode: EncodeSettings = field(default_factory=EncodeSettings)


_TRACKER: dict[str | None, FaceLandmarkTracker] = {}


def tracker_for(model: str | None) -> FaceLandmarkTracker:
    if model not in _TRACKER:
        _TRACKER[model] = FaceLandmarkTracker(model)
    else:
        _TRACKER[model].restart()
    return _TRACKER[model]


_COUNTER: dict[str | None, FaceCounter] = {}


def face_counter_for(model: str | None) -> FaceCounter:
    if model not in _COUNTER:
        _COUNTER[model] = FaceCounter(model)
    return _COUNTER[model]


def encoding(frames: Iterable[SpanFrame], path: Path, reader: SpanReader, audio: AudioFormat,
             settings: EncodeSettings, opened: list[BackgroundClipEncoder]) -> Iterator[SpanFrame]:
    """Pass ``frames`` through, encoding each into the clip file (opened on the first frame, in its own thread)."""
    for frame in frames:
        if not opened:
            height, width = frame.rgb.shape[:2]
            opened.append(BackgroundClipEncoder(ClipEncoder(path, width, height, reader.fps, reader.time_base,
                                                            audio.rate, audio.layout, settings)))
        opened[0].add_frame(frame)
        yield frame


def write_table(path: Path, records: list[FrameRecord], meta: dict) -> None:
    with atomic_output(path) as handle:
        writer = CsvFrameWriter(handle, meta)
        for record in records:
            writer.write(record)


def release_memory() -> None:
    """Give freed heap back to the system between clips (glibc keeps it otherwise; measured: 60-80 MB a worker)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def process_clip(job: ClipJob) -> dict:
    try:
        return _process_clip(job)
    finally:
        release_memory()


def _process_clip(job: ClipJob) -> dict:
    files = ClipFiles(Path(job.root), job.name)
    clock = time.perf_counter()
    tracker = tracker_for(job.model)
    sampler = VisualSampler(face_counter_for(job.model))
    reader = SpanReader(job.source_path, job.span_start_s, job.span_end_s)
    audio = AudioFormat.of(job.source_path)  # the clip's AAC track keeps the source's rate
    opened: list[BackgroundClipEncoder] = []
    try:
        frames = encoding(prefetch(reader), files.video, reader, audio, job.encode, opened)
        records = list(track_frames(frames, tracker, make_smoother(job.smooth), on_result=sampler))
        if not records:
            raise ClipFailed("no video frame in this span")
        start_s, end_s = float(reader.start_s), float(reader.end_s)
        source_audio = SourceAudio(job.source_path, start_s, end_s, audio)
        opened[0].finish(source_audio)
        padded = source_audio.padded
    finally:
        if opened and not opened[0].done:
            opened[0].abort()
    release_memory()  # the decode and encode buffers, before the features allocate theirs
    timings = {"decode_track_encode_s": time.perf_counter() - clock}
    times = np.array([r.time_s for r in records])
    face = np.array([r.face for r in records], dtype=bool)
    raw = np.full((len(records), len(MEDIAPIPE_NAMES)), np.nan, np.float32)
    pose = np.full((len(records), 3), np.nan, np.float32)
    geometry = np.full((len(records), len(GEOMETRY_NAMES)), np.nan, np.float32)
    for i, r in enumerate(records):
        if r.face:
            raw[i] = r.blendshapes
            if r.head_pose is not None:
                pose[i] = r.head_pose
            if r.geometry is not None:
                geometry[i] = r.geometry
    if not face.any():
        raise ClipFailed("no face found in any frame")
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    table_meta = {"source": job.source_name, "fps": fps}
    write_table(files.blendshapes, records, table_meta)
    clock = time.perf_counter()

    rate = job.audio.sample_rate
    samples = job.audio.slice(start_s, end_s)
    write_wav(files.audio, samples, rate)
    context_start = job.audio.start_time_s - start_s  # clip time of the context's first sample
    features = compute_features(job.audio.samples, rate, times, DEFAULT_FEATURES, job.feature_params,
                                start_s=context_start)
    feature_params = features.pop("_params")
    with atomic_output(files.audio_features, mode="wb") as fh:
        np.savez(fh, **features, sample_rate=np.int64(rate), fps=np.float64(fps),
                 params=np.array(json.dumps(feature_params)))

    timings["features_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    assessed = assess_clip(raw, face, times, pose, geometry, job.speech.at(start_s + times), sampler.samples,
                           job.audio.samples, context_start, rate, job.qc)
    qc = assessed.repair
    with atomic_output(files.quality_mask, mode="wb") as fh:
        np.save(fh, qc.mask)
    clean = [FrameRecord(r.frame, r.time_s, bool(qc.mask[i]), qc.values[i] if qc.mask[i] else None,
                         pose[i] if qc.mask[i] and not np.isnan(pose[i]).any() else None)
             for i, r in enumerate(records)]
    write_table(files.blendshapes_qc, clean, table_meta)

    timings["qc_s"] = time.perf_counter() - clock
    timings["visual_qc_s"] = sampler.seconds  # inside decode_track_encode_s
    duration = end_s - start_s
    metadata = {
        "clip": job.name,
        "index": job.index,
        "source": job.source_name,
        "source_start_s": round(start_s, 6),
        "source_end_s": round(end_s, 6),
        "speech_span_s": [round(job.span_start_s, 6), round(job.span_end_s, 6)],
        "duration_s": round(duration, 6),
        "fps": round(fps, 6),
        "frames": len(records),
        "face_frames": int(face.sum()),
        "missing_frames": int((~face).sum()),
        "missing_ranges": [[a, b - 1] for a, b in true_runs(~face)],  # [first, last] frames
        "quality": assessed.quality,
        "quality_score": assessed.score,
        "quality_reasons": assessed.reasons,
        "lip_sync": assessed.lip_sync.as_dict(),
        "face_speaking": assessed.face_speaking,
        "speech_ratio": round(job.speech.ratio(start_s, end_s), 4),
        "audio": {"sample_rate": rate, "samples": int(samples.size), "duration_s": round(samples.size / rate, 6),
                  "channels": 1, "format": "PCM 16-bit WAV", "padded_s": round(padded / audio.rate, 6),
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
