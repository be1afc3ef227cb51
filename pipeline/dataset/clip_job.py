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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.audio.track import AudioTrack, write_wav
from pipeline.face.blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES
from pipeline.dataset import shot_split
from pipeline.dataset.clip_files import ClipFiles, describe_files
from pipeline.dataset.clip_record import ClipRecord
from pipeline.media.cut import AudioFormat, BackgroundClipEncoder, ClipEncoder, EncodeSettings, SpanFrame, SourceAudio, SpanReader
from pipeline.face.extract import track_frames
from pipeline.face.face_data import face_arrays, write_face_data
from pipeline.audio.features import DEFAULT_FEATURES, FeatureParams, compute_features
from pipeline.media.frame_writers import CsvFrameWriter, FrameRecord
from pipeline.face.landmarks import FaceLandmarkTracker
from pipeline.media.prefetch import prefetch
from pipeline.media.shots import find_boundaries
from pipeline.quality.clip_quality import assess_clip
from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.quality.lip_sync import LipSync, LipSyncParams
from pipeline.quality.qc import QcParams
from pipeline.runs import true_runs
from pipeline.audio.segment import SpeechFlags
from pipeline.face.smoothing import make_smoother
from pipeline.quality.visual_qc import FaceCounter, VisualSampler

MUTED_REASON = "a muted shot: no speech to check the lips against"
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
    lip_model: str | None = None  # the audio-to-mouth model of the lip-sync check; None: the shipped one
    part_of: dict | None = None  # a side of a span split at a shot boundary: {"clip", "speech_span_s", "part"}
    clip_video: str = "mp4"  # "none": the frames are tracked, no clip mp4 is encoded
    muted: bool = False  # a muted shot (no speech in it): no lip-sync check, marked in its record


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


@dataclass
class Tracked:
    """A clip's span decoded once: tracked frames (and the clip's video written), as arrays by frame."""

    records: list[FrameRecord]
    start_s: float  # the clip's span in container time
    end_s: float
    padded_s: float  # silence the source audio lacked at the end
    sampler: VisualSampler
    times: np.ndarray
    face: np.ndarray
    raw: np.ndarray  # (frames, 52), NaN without a face
    pose: np.ndarray  # (frames, 3)
    geometry: np.ndarray  # (frames, len(GEOMETRY_NAMES))
    boundaries: list = field(default_factory=list)  # shot boundaries on the decoded frames (pipeline.media.shots)

    @property
    def fps(self) -> float:
        t = self.times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else 0.0


def _process_clip(job: ClipJob) -> dict:
    files = ClipFiles(Path(job.root), job.name)
    clock = time.perf_counter()
    tracked = track_and_encode(job, files)
    crossing = shot_split.inside(tracked.boundaries, tracked.start_s, tracked.end_s)
    if crossing and job.part_of is None:
        files.video.unlink(missing_ok=True)
        return split_span(job, crossing)
    timings = {"decode_track_encode_s": time.perf_counter() - clock}
    table_meta = {"source": job.source_name, "fps": tracked.fps}
    write_table(files.blendshapes, tracked.records, table_meta)
    write_face_data(files.face, face_arrays(tracked.records))
    clock = time.perf_counter()
    samples, feature_shapes, feature_params = write_audio(job, files, tracked)
    timings["features_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    assessed = assess_clip(tracked.raw, tracked.face, tracked.times, tracked.pose, tracked.geometry,
                           job.speech.at(tracked.start_s + tracked.times), tracked.sampler.samples, job.audio.samples,
                           job.audio.start_time_s - tracked.start_s, job.audio.sample_rate, job.qc,
                           LipSyncParams(model=job.lip_model))
    if job.muted:  # nothing is said: there is no lip sync to check, and no recording evidence to pool
        assessed = replace(assessed, lip_sync=LipSync(None, None, "", extra={"reason": MUTED_REASON}),
                           quality={**assessed.quality, "lip_sync_verdict": ""})
    write_qc(files, tracked, assessed.repair, table_meta)
    timings["qc_s"] = time.perf_counter() - clock
    timings["visual_qc_s"] = tracked.sampler.seconds  # inside decode_track_encode_s
    record = clip_record(job, files, tracked, samples, feature_shapes, feature_params, assessed, timings)
    with atomic_output(files.metadata) as fh:
        json.dump(record.to_dict(), fh, indent=1)
    return record.to_dict()


def split_span(job: ClipJob, crossing: list) -> dict:
    """The span's sides (pipeline.dataset.shot_split), each processed as a clip of its own."""
    min_clip = float((job.params.get("segment") or {}).get("min_clip") or 0.0)
    kept, dropped = shot_split.part_spans(crossing, job.span_start_s, job.span_end_s, min_clip)
    parts = []
    for k, (a, b) in enumerate(kept):
        part = {"clip": job.name, "speech_span_s": [round(job.span_start_s, 6), round(job.span_end_s, 6)], "part": k,
                "split_at": [b.as_dict() for b in crossing]}
        parts.append(_process_clip(replace(job, name=shot_split.part_name(job.name, k), span_start_s=a,
                                           span_end_s=b, part_of=part)))
    if parts:  # the first side lists them all: a rerun knows the span is complete only when every side is
        first = parts[0]
        first["shot"] = {**first["shot"], "parts": [p["clip"] for p in parts], "dropped": dropped}
        with atomic_output(ClipFiles(Path(job.root), first["clip"]).metadata) as fh:
            json.dump(first, fh, indent=1)
    return {"clip": job.name, "split": True, "parts": parts, "dropped": dropped}


def track_and_encode(job: ClipJob, files: ClipFiles) -> Tracked:
    """Decode the span once: frames to MediaPipe and to the clip's encoder (the source audio muxed in)."""
    tracker = tracker_for(job.model)
    sampler = VisualSampler(face_counter_for(job.model))
    reader = SpanReader(job.source_path, job.span_start_s, job.span_end_s, lead_in_s=shot_split.LEAD_IN_S)
    audio = AudioFormat.of(job.source_path)  # the clip's AAC track keeps the source's rate
    opened: list[BackgroundClipEncoder] = []
    keep_video = job.clip_video != "none"
    try:
        frames = encoding(prefetch(reader), files.video, reader, audio, job.encode, opened) if keep_video \
            else prefetch(reader)
        records = list(track_frames(frames, tracker, make_smoother(job.smooth), on_result=sampler))
        if not records:
            raise ClipFailed("no video frame in this span")
        start_s, end_s = float(reader.start_s), float(reader.end_s)
        source_audio = SourceAudio(job.source_path, start_s, end_s, audio)
        if keep_video:
            opened[0].finish(source_audio)
        else:
            files.video.unlink(missing_ok=True)  # an earlier run's mp4 of this clip is not part of it now
            for _ in source_audio:  # counts the silence the source lacks (the wav comes from the 16 kHz track)
                pass
        padded_s = source_audio.padded / audio.rate
    finally:
        if opened and not opened[0].done:
            opened[0].abort()
    release_memory()  # the decode and encode buffers, before the features allocate theirs
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
    boundaries = find_boundaries(np.stack([sig for _, sig in reader.signatures]),
                                 np.array([t for t, _ in reader.signatures])) if reader.signatures else []
    return Tracked(records, start_s, end_s, padded_s, sampler, np.array([r.time_s for r in records]), face, raw, pose,
                   geometry, boundaries)


def write_audio(job: ClipJob, files: ClipFiles, tracked: Tracked) -> tuple[np.ndarray, dict, dict]:
    """The clip's 16 kHz wav and its audio features at the frame times; (samples, feature shapes, params)."""
    return write_clip_audio(files, job.audio, tracked.start_s, tracked.end_s, tracked.times, tracked.fps,
                            job.feature_params)


def write_clip_audio(files: ClipFiles, audio: AudioTrack, start_s: float, end_s: float, times: np.ndarray,
                     fps: float, feature_params: FeatureParams) -> tuple[np.ndarray, dict, dict]:
    """The wav of container time [start_s, end_s) and the audio features at the clip's frame times (clip time
    0 = start_s), from ``audio`` (which covers the span with context either side)."""
    rate = audio.sample_rate
    samples = audio.slice(start_s, end_s)
    write_wav(files.audio, samples, rate)
    context_start = audio.start_time_s - start_s  # clip time of the context's first sample
    features = compute_features(audio.samples, rate, times, DEFAULT_FEATURES, feature_params, start_s=context_start)
    feature_params_used = features.pop("_params")
    with atomic_output(files.audio_features, mode="wb") as fh:
        np.savez(fh, **features, sample_rate=np.int64(rate), fps=np.float64(fps),
                 params=np.array(json.dumps(feature_params_used)))
    return samples, {name: list(features[name].shape[1:]) for name in DEFAULT_FEATURES}, feature_params_used


def write_qc(files: ClipFiles, tracked: Tracked, qc, table_meta: dict) -> None:
    """The quality mask and the QC-repaired blendshape table."""
    with atomic_output(files.quality_mask, mode="wb") as fh:
        np.save(fh, qc.mask)
    pose = tracked.pose
    clean = [FrameRecord(r.frame, r.time_s, bool(qc.mask[i]), qc.values[i] if qc.mask[i] else None,
                         pose[i] if qc.mask[i] and not np.isnan(pose[i]).any() else None)
             for i, r in enumerate(tracked.records)]
    write_table(files.blendshapes_qc, clean, table_meta)


def clip_record(job: ClipJob, files: ClipFiles, tracked: Tracked, samples: np.ndarray, feature_shapes: dict,
                feature_params: dict, assessed, timings: dict) -> ClipRecord:
    start_s, end_s, face, rate = tracked.start_s, tracked.end_s, tracked.face, job.audio.sample_rate
    return ClipRecord(
        clip=job.name, index=job.index, source=job.source_name,
        source_start_s=round(start_s, 6), source_end_s=round(end_s, 6),
        speech_span_s=[round(job.span_start_s, 6), round(job.span_end_s, 6)],
        duration_s=round(end_s - start_s, 6), fps=round(tracked.fps, 6), frames=len(tracked.records),
        face_frames=int(face.sum()), missing_frames=int((~face).sum()),
        missing_ranges=[[a, b - 1] for a, b in true_runs(~face)],
        quality=assessed.quality, quality_score=assessed.score, quality_reasons=assessed.reasons,
        lip_sync=assessed.lip_sync.as_dict(), face_speaking=assessed.face_speaking,
        speech_ratio=round(job.speech.ratio(start_s, end_s), 4),
        audio={"sample_rate": rate, "samples": int(samples.size), "duration_s": round(samples.size / rate, 6),
               "channels": 1, "format": "PCM 16-bit WAV", "padded_s": round(tracked.padded_s, 6),
               "features": feature_shapes, "feature_params": feature_params},
        shot={"boundaries": [b.as_dict() for b in tracked.boundaries], **({"part_of": job.part_of} if job.part_of else {})},
        kind="muted" if job.muted else "speech",
        blendshape_names=list(MEDIAPIPE_NAMES), head_pose_names=list(HEAD_POSE_NAMES), smoothing=job.smooth,
        params=job.params, params_key=job.params_key, timings={k: round(v, 3) for k, v in timings.items()},
        files=describe_files(files))
