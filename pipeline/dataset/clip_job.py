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
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.audio.track import AudioTrack, write_wav
from pipeline.face.blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES
from pipeline.dataset import shot_split
from pipeline.dataset.clip_files import ClipFiles, describe_files
from pipeline.dataset.clip_record import ClipRecord
from pipeline.media.cut import AudioFormat, BackgroundClipEncoder, ClipEncoder, EncodeSettings, SourceAudio, SpanReader
from pipeline.face.extract import FaceTrack
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
    watch_cuts: bool = True  # start a new face track at a hard cut seen while decoding (shot_split.watched)


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
    segments, boundaries = track_and_encode(job, files)
    seconds = time.perf_counter() - clock
    start_s, end_s = segments[0].start_s, segments[-1].end_s
    crossing = shot_split.inside(boundaries, start_s, end_s)
    if crossing and job.part_of is None:
        return split_span(job, crossing, segments, boundaries, seconds)
    if len(segments) > 1:  # a cut seen while decoding that the whole span's detector does not confirm
        discard_segments(files, segments)
        return _process_clip(replace(job, watch_cuts=False))
    tracked = segments[0].tracked(boundaries)
    return finish_clip(job, files, tracked, {"decode_track_encode_s": seconds})


def finish_clip(job: ClipJob, files: ClipFiles, tracked: Tracked, timings: dict) -> dict:
    """Everything after the tracking: tables, face data, wav and features, QC, metadata (last)."""
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


def discard_segments(files: ClipFiles, segments: list["Segment"]) -> None:
    for segment in segments:
        if segment.video is not None:
            segment.video.unlink(missing_ok=True)


def split_span(job: ClipJob, crossing: list, segments: list["Segment"], boundaries: list, seconds: float) -> dict:
    """The span's sides (pipeline.dataset.shot_split), each a clip of its own.

    A side whose first frame began a face track while the span was decoded (the span's start, or a hard cut
    seen while decoding) takes that track's rows and clip file as they are: they are what processing the side
    alone gives, since the tracker, the smoother and the encoder all started again on that frame.  Any other
    side (after a gradual transition, say) is decoded and tracked again from its own first frame."""
    min_clip = float((job.params.get("segment") or {}).get("min_clip") or 0.0)
    kept, dropped = shot_split.part_spans(crossing, job.span_start_s, job.span_end_s, min_clip)
    starts = [g.start_s for g in segments]
    first_durations = [g.first_duration_s for g in segments]
    total_frames = sum(len(g.records) for g in segments) or 1
    plan = []
    for k, (a, b) in enumerate(kept):
        g = shot_split.segment_for(starts, first_durations, a)
        if g is not None and not segments[g].fits(b, keep_video=job.clip_video != "none"):
            g = None
        plan.append(g)
    used = {g for g in plan if g is not None}
    discard_segments(ClipFiles(Path(job.root), job.name), [seg for i, seg in enumerate(segments) if i not in used])
    parts = []
    for k, ((a, b), g) in enumerate(zip(kept, plan)):
        part = {"clip": job.name, "speech_span_s": [round(job.span_start_s, 6), round(job.span_end_s, 6)], "part": k,
                "split_at": [c.as_dict() for c in crossing],
                # "span": its rows and clip file are the span's decode from this side's first frame on (a face
                # track started there); "own": it was decoded and tracked again on its own
                "tracking": "span" if g is not None else "own"}
        side = replace(job, name=shot_split.part_name(job.name, k), span_start_s=a, span_end_s=b, part_of=part)
        side_files = ClipFiles(Path(job.root), side.name)
        if g is None:
            parts.append(_process_clip(side))
            continue
        segment = segments[g]
        tracked = segment.side(job, b, boundaries)
        if segment.video is not None and segment.video != side_files.video:
            os.replace(segment.video, side_files.video)
        elif segment.video is None:
            side_files.video.unlink(missing_ok=True)
        share = len(tracked.records) / total_frames
        parts.append(finish_clip(side, side_files, tracked, {"decode_track_encode_s": seconds * share}))
    if parts:  # the first side lists them all: a rerun knows the span is complete only when every side is
        first = parts[0]
        first["shot"] = {**first["shot"], "parts": [p["clip"] for p in parts], "dropped": dropped}
        with atomic_output(ClipFiles(Path(job.root), first["clip"]).metadata) as fh:
            json.dump(first, fh, indent=1)
    return {"clip": job.name, "split": True, "parts": parts, "dropped": dropped}


@dataclass
class Segment:
    """The frames of a span from one face-track start (the span's first frame, or a hard cut seen while
    decoding) to the next: tracked from its own first frame, and encoded into a file of its own."""

    start_s: float  # container time of its first frame
    first_duration_s: float
    sampler: VisualSampler
    track: FaceTrack
    video: Path | None  # its clip file (None: clip_video none)
    records: list[FrameRecord] = field(default_factory=list)
    source_times: list[float] = field(default_factory=list)
    encoder: BackgroundClipEncoder | None = None
    end_s: float = 0.0
    padded_s: float = 0.0

    def fits(self, b: float, keep_video: bool) -> bool:
        """Whether the side ending at ``b`` is this segment's frames as they are (or, without a clip file to
        keep, a prefix of them)."""
        inside_all = self.source_times[-1] < b - shot_split.EPS and self.end_s >= b - shot_split.EPS
        return inside_all or (not keep_video and self.source_times[0] < b - shot_split.EPS)

    def tracked(self, boundaries: list) -> Tracked:
        return tracked_from(self.records, self.start_s, self.end_s, self.padded_s, self.sampler, boundaries)

    def side(self, job: ClipJob, b: float, boundaries: list) -> Tracked:
        """The side of this segment's frames shown before ``b``."""
        n = int(np.searchsorted(np.asarray(self.source_times), b - shot_split.EPS, side="left"))
        if n == len(self.records):
            end_s, padded_s = self.end_s, self.padded_s
        else:  # a prefix (no clip file is kept): the silence the source lacks in it
            end_s = self.source_times[n]
            padded_s = silence_padded_s(SourceAudio(job.source_path, self.start_s, end_s,
                                                    AudioFormat.of(job.source_path)))
        near = [c for c in boundaries if c.end_s > self.start_s - shot_split.LEAD_IN_S and c.start_s < end_s]
        return tracked_from(self.records[:n], self.start_s, end_s, padded_s, self.sampler, near)


def silence_padded_s(source_audio: SourceAudio) -> float:
    """Seconds of silence the source lacks in this stretch, without a clip file to mux it into (the clip's wav
    comes from the 16 kHz track)."""
    for _ in source_audio:
        pass
    return source_audio.padded / source_audio.rate


def tracked_from(records: list[FrameRecord], start_s: float, end_s: float, padded_s: float, sampler: VisualSampler,
                 boundaries: list) -> Tracked:
    if not records:
        raise ClipFailed("no video frame in this span")
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
    return Tracked(records, start_s, end_s, padded_s, sampler, np.array([r.time_s for r in records]), face, raw, pose,
                   geometry, boundaries)


def segment_video(files: ClipFiles, k: int) -> Path:
    """Segment k's clip file until the sides are known: the span's own name for the first, hidden names after."""
    return files.video if k == 0 else files.video.with_name(f".{files.video.stem}.shot{k}.mp4")


def track_and_encode(job: ClipJob, files: ClipFiles) -> tuple[list[Segment], list]:
    """Decode the span once: frames to MediaPipe and to the clip's encoder (the source audio muxed in).

    A hard cut seen while decoding (pipeline.media.shots.CutWatch) starts a new segment: the tracker, the
    smoother, the visual sampler and the encoder all start again on its first frame.  Returns the segments
    and the shot boundaries that the whole span's decoded frames show (the reference)."""
    tracker = tracker_for(job.model)
    counter = face_counter_for(job.model)
    reader = SpanReader(job.source_path, job.span_start_s, job.span_end_s, lead_in_s=shot_split.LEAD_IN_S)
    audio = AudioFormat.of(job.source_path)  # the clip's AAC track keeps the source's rate
    keep_video = job.clip_video != "none"
    watch = job.watch_cuts and job.part_of is None
    segments: list[Segment] = []

    def close(segment: Segment, end_s: float) -> None:
        segment.end_s = end_s
        source_audio = SourceAudio(job.source_path, segment.start_s, end_s, audio)
        if segment.encoder is not None:
            segment.encoder.finish(source_audio)
            segment.encoder = None  # its encoder's buffers go now, not when the span is done (25 cuts: 400 MiB)
            segment.padded_s = source_audio.padded / audio.rate
        else:
            segment.padded_s = silence_padded_s(source_audio)

    try:
        if not keep_video:
            files.video.unlink(missing_ok=True)  # an earlier run's mp4 of this clip is not part of it now
        for new_shot, frame in shot_split.watched(prefetch(reader), reader, lambda: float(reader.fps)):
            if not segments or (new_shot and watch):
                if segments:
                    close(segments[-1], frame.source_time_s)
                    tracker.restart()
                sampler = VisualSampler(counter)
                segments.append(Segment(frame.source_time_s, frame.duration_s, sampler,
                                        FaceTrack(tracker, make_smoother(job.smooth), on_result=sampler),
                                        segment_video(files, len(segments)) if keep_video else None))
            segment = segments[-1]
            local = replace(frame, index=len(segment.records), time_s=frame.source_time_s - segment.start_s)
            if keep_video:
                if segment.encoder is None:
                    height, width = local.rgb.shape[:2]
                    segment.encoder = BackgroundClipEncoder(ClipEncoder(segment.video, width, height, reader.fps,
                                                                        reader.time_base, audio.rate, audio.layout,
                                                                        job.encode))
                segment.encoder.add_frame(local)
            segment.records.append(segment.track(local))
            segment.source_times.append(frame.source_time_s)
        if not segments:
            raise ClipFailed("no video frame in this span")
        close(segments[-1], float(reader.end_s))
    except BaseException:
        for segment in segments:
            if segment.encoder is not None and not segment.encoder.done:
                segment.encoder.abort()
        discard_segments(files, segments[1:])
        raise
    release_memory()  # the decode and encode buffers, before the features allocate theirs
    boundaries = find_boundaries(np.stack([sig for _, sig in reader.signatures]),
                                 np.array([t for t, _ in reader.signatures])) if reader.signatures else []
    return segments, boundaries


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
