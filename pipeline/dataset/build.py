"""make_dataset: one long recording -> a folder of speech clips with frame-aligned data.

Stages: probe + checks, audio decode (16 kHz mono), speech segmentation, then
one task per clip in worker processes: seek to the clip's span in the source,
decode it once, track the face on those frames and encode the same frames
into the clip file, then audio features, QC and metadata; then manifest and
reports.  Reruns skip clips whose metadata and files are complete for the
same parameters.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.atomic import atomic_output
from pipeline.audio.track import AudioTrack, decode_audio
from pipeline.dataset.clip_files import ClipFiles, clip_name, remove_partials
from pipeline.dataset.shot_split import load_span, span_clips, span_dropped
from pipeline.dataset.clip_record import ClipRecord
from pipeline.dataset.clip_job import AUDIO_CONTEXT_S, ClipFailed, ClipJob, process_clip
from pipeline.media.cut import EncodeSettings
from pipeline.errors import InputError, OutputError
from pipeline.audio.features import FeatureParams
from pipeline.orphan_guard import exit_with_parent
from pipeline.media.probe import probe
from pipeline.progress import ProgressFactory, silent
from pipeline.quality.lip_sync import LipSyncParams
from pipeline.quality.qc import QcParams
from pipeline.dataset.av_correction import correct_clip, correction_for
from pipeline.dataset.recording_sync import pool_clips
from pipeline.dataset.report import write_reports
from pipeline.dataset.shared_footage import write_fingerprint
from pipeline.audio.segment import SegmentParams, Span, muted_spans, segment_speech
from pipeline.face.smoothing import make_smoother

# Bumped whenever the pipeline's output for the same input and parameters changes, so a rerun
# rebuilds clips written by an older version instead of mixing the two in one dataset.
DATA_VERSION = 3
AUDIO_SHORTER_TOLERANCE_S = 0.5
HEARTBEAT_S = 5.0  # while clips run, the progress callback hears from us at least this often


@dataclass
class DatasetParams:
    segment: SegmentParams = field(default_factory=SegmentParams)
    smooth: str = "none"
    f0_method: str = "dio"
    quality_threshold: float = 60.0  # clips below it are listed in the report
    qc: QcParams = field(default_factory=QcParams)
    model: str | None = None
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    pad_short_audio: bool = False  # keep a recording whose audio ends early; the rest is silence, never a clip
    correct_av_offset: bool = False  # shift every clip's audio by the recording's reliable lip-sync offset
    lip_model: str | None = None  # the dataset's own audio-to-mouth model (jobs.lip_sync_refit); None: the shipped one
    clip_video: str = "mp4"  # "none": no clip mp4 is written (audio-to-face datasets)
    muted_shots: float = 0.0  # share of the speech seconds added as muted shots (segment.muted_spans)

    def as_dict(self) -> dict:
        return {"segment": asdict(self.segment), "smooth": self.smooth, "f0": self.f0_method,
                "qc": asdict(self.qc), "quality_threshold": self.quality_threshold, "encode": asdict(self.encode),
                "pad_short_audio": self.pad_short_audio, "correct_av_offset": self.correct_av_offset,
                "data_version": DATA_VERSION,
                # only when not the default, so that folders made before the option existed stay complete
                **({"clip_video": self.clip_video} if self.clip_video != "mp4" else {}),
                **({"muted_shots": self.muted_shots} if self.muted_shots else {})}


@dataclass
class DatasetResult:
    root: Path
    clips: list[dict]  # metadata of every complete clip, in order
    failed: list[dict]  # {"clip", "start_s", "end_s", "reason"}
    dropped: list[dict]
    skipped: int  # clips already complete from an earlier run
    stage_seconds: dict[str, float]
    report: dict
    audio_padding: list[dict] = field(default_factory=list)
    manifest: list[dict] = field(default_factory=list)  # the manifest.jsonl lines written


def params_key(source: Path, params: DatasetParams, source_name: str | None = None) -> str:
    """Changes whenever the input file or any parameter that shapes the output changes."""
    stat = source.stat()
    ident = {"source": source_name or source.name, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, **params.as_dict()}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def prepare_output(root: Path) -> None:
    try:
        (root / "clips").mkdir(parents=True, exist_ok=True)
        (root / "data").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(root, f"cannot create the dataset folder ({exc.strerror})") from None
    if not os.access(root / "data", os.W_OK):
        raise OutputError(root, "permission denied: cannot write in the dataset folder")


@dataclass
class DatasetPlan:
    """Everything known before the clips are cut: what build_dataset (or a fan-out over machines) works from."""

    source: Path
    root: Path
    params: DatasetParams
    info: object  # probe.VideoInfo
    audio: AudioTrack
    padding: list[dict]
    segmentation: object  # segment.Segmentation
    key: str
    complete: dict[int, dict]  # clips already complete from an earlier run
    pending: list[tuple[int, Span]]
    stages: dict[str, float]
    started: float
    source_name: str  # what the clips and the report call the recording (the user's file name)

    def job(self, index: int, span: Span) -> ClipJob:
        return clip_job(self.root, self.source, index, span, self.audio, self.segmentation.flags_between,
                        self.key, self.params, self.source_name)


def clip_job(root: Path, source: Path, index: int, span: Span, audio: AudioTrack, flags_between, key: str,
             params: DatasetParams, source_name: str | None = None) -> ClipJob:
    """The work order of one clip: its span, its audio with context either side, its VAD flags, the settings."""
    lo, hi = span.start_s - AUDIO_CONTEXT_S, span.end_s + AUDIO_CONTEXT_S
    return ClipJob(root=str(root), name=clip_name(index), index=index, source_path=str(source.resolve()),
                   source_name=source_name or source.name, span_start_s=span.start_s, span_end_s=span.end_s, audio=audio.excerpt(lo, hi),
                   speech=flags_between(lo, hi), params_key=key, params=params.as_dict(),
                   smooth=params.smooth, feature_params=FeatureParams(f0_method=params.f0_method),
                   qc=params.qc, model=params.model, encode=params.encode, lip_model=params.lip_model,
                   clip_video=params.clip_video, muted=span.muted)


def plan_dataset(source: str | os.PathLike[str], output: str | os.PathLike[str],
                 params: DatasetParams = DatasetParams(), audio: AudioTrack | None = None,
                 source_name: str | None = None) -> DatasetPlan:
    """Probe, decode the audio once, find the speech spans, and see which clips are already complete.

    ``audio``: the source's audio as an earlier plan decoded it (pipeline.dataset.clip_plan), so a second plan of
    the same recording (the fan-out's finishing task) does not decode it again.  ``source_name``: what
    the clips call the recording when its file has a server-chosen name (uploads), else the file's name."""
    source, root = Path(source), Path(output)
    make_smoother(params.smooth)  # reject a bad name before any work
    params.segment.validate()
    stages: dict[str, float] = {}
    started = time.perf_counter()

    info = probe(source)
    if not info.has_audio:
        raise InputError(source, "no audio track; a speech dataset needs audio")
    prepare_output(root)
    remove_partials(root)

    t = time.perf_counter()
    audio = decode_audio(source) if audio is None else audio
    stages["audio_decode"] = time.perf_counter() - t
    padding = check_audio_length(source, info, audio, params.pad_short_audio)
    t = time.perf_counter()
    write_fingerprint(root, audio.samples, audio.sample_rate)  # what shared-footage checks compare
    stages["fingerprint"] = time.perf_counter() - t

    t = time.perf_counter()
    segmentation = segment_speech(audio, params.segment)
    # muted shots follow the speech clips (their indices after them, so the speech clips keep their names)
    segmentation.clips += muted_spans(segmentation, audio.start_time_s, audio.end_time_s, params.muted_shots)
    stages["segmentation"] = time.perf_counter() - t

    source_name = source_name or source.name
    key = params_key(source, params, source_name)
    complete: dict[int, dict] = {}
    pending: list[tuple[int, Span]] = []
    for index, span in enumerate(segmentation.clips):
        meta = load_span(root, clip_name(index), key)
        if meta is not None:
            complete[index] = meta
        else:
            pending.append((index, span))
    return DatasetPlan(source, root, params, info, audio, padding, segmentation, key, complete, pending, stages,
                       started, source_name)


def finish_dataset(plan: DatasetPlan, results: dict[int, dict], failed: list[dict],
                   skipped: int | None = None) -> DatasetResult:
    """Write the manifest and the reports from every complete clip (and the failures), in clip order."""
    clips = [clip for i in sorted(results) for clip in span_clips(results[i])]
    shot_dropped = [d for i in sorted(results) for d in span_dropped(results[i])]
    failed = sorted(failed, key=lambda f: f["clip"])
    t = time.perf_counter()
    lip = LipSyncParams(model=plan.params.lip_model)
    recording, clips = pool_clips(plan.root, clips, lip)
    offset = correction_for(recording) if plan.params.correct_av_offset else None
    if offset is not None:  # the clips again with the audio shifted, then measured again
        features = FeatureParams(f0_method=plan.params.f0_method)
        clips = [correct_clip(plan.root, meta, plan.source, plan.audio, offset, features, lip) for meta in clips]
        measured = recording
        recording, clips = pool_clips(plan.root, clips, lip)
        recording = {**recording, "corrected_ms": offset, "before_correction": {
            k: measured[k] for k in ("verdict", "offset_ms", "confidence", "false_alarm_p")}}
    plan.stages["lip_sync_pooling"] = time.perf_counter() - t
    manifest = write_manifest(plan.root, clips)
    plan.stages["total"] = time.perf_counter() - plan.started
    report = write_reports(plan.root, plan.source_name, plan.info, plan.audio.duration_s, plan.segmentation, clips, failed,
                           plan.params, plan.stages, plan.padding, recording, shot_dropped)
    return DatasetResult(plan.root, clips, failed, plan.segmentation.dropped + shot_dropped,
                         len(plan.complete) if skipped is None else skipped, plan.stages, report, plan.padding,
                         manifest)


def build_dataset(source: str | os.PathLike[str], output: str | os.PathLike[str], params: DatasetParams = DatasetParams(),
                  workers: int | None = None, progress: ProgressFactory = silent) -> DatasetResult:
    plan = plan_dataset(source, output, params)
    t = time.perf_counter()
    results, failed = run_clip_jobs(plan.pending, plan.job, workers, progress)
    results.update(plan.complete)
    plan.stages["clips"] = time.perf_counter() - t
    return finish_dataset(plan, results, failed)


def check_audio_length(source: Path, info, audio: AudioTrack, pad: bool) -> list[dict]:
    """Refuse audio that ends well before the video, or (``pad``) describe the silent stretch that replaces it."""
    if info.duration_s is None:
        return []
    video_end = info.start_time_s + info.duration_s
    if audio.end_time_s >= video_end - AUDIO_SHORTER_TOLERANCE_S:
        return []
    if not pad:
        raise InputError(source, f"the audio track ends at {audio.end_time_s:.2f} s but the video runs to "
                                 f"{video_end:.2f} s: audio shorter than video (use --pad_short_audio to keep the "
                                 "recording; the missing audio is treated as silence and no clip is cut from it)")
    return [{"start_s": round(audio.end_time_s, 3), "end_s": round(video_end, 3),
             "duration_s": round(video_end - audio.end_time_s, 3),
             "reason": "no audio in the source: treated as silence (--pad_short_audio), no clip cut from it"}]


def run_clip_jobs(pending: list[tuple[int, Span]], job_for, workers: int | None,
                  progress: ProgressFactory) -> tuple[dict[int, dict], list[dict]]:
    """Run one task per clip in a process pool; at most two per worker queued, so memory stays flat."""
    results: dict[int, dict] = {}
    failed: list[dict] = []
    if not pending:
        return results, failed
    workers = max(1, min(workers or os.cpu_count() or 1, len(pending)))
    bar = progress("clips", len(pending), "clip")
    pool = clip_pool(workers)
    queue = list(reversed(pending))
    running: dict[cf.Future, tuple[int, Span]] = {}
    try:
        while queue or running:
            while queue and len(running) < 2 * workers:
                index, span = queue.pop()
                running[pool.submit(process_clip, job_for(index, span))] = (index, span)
            finished, _ = cf.wait(running, timeout=HEARTBEAT_S, return_when=cf.FIRST_COMPLETED)
            if not finished:
                bar.update(0)  # still alive; lets the caller stop us (a cancelled job) between clips
            for future in finished:
                index, span = running.pop(future)
                try:
                    results[index] = future.result()
                except ClipFailed as exc:
                    failed.append(failure(index, span, str(exc)))
                except Exception as exc:  # noqa: BLE001 - one clip's crash must not sink the others
                    failed.append(failure(index, span, f"{type(exc).__name__}: {exc}"))
                bar.update(1)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # stop promptly: drop clips not started yet
        raise
    pool.shutdown(wait=True)
    bar.close()
    return results, failed


def clip_pool(workers: int) -> cf.ProcessPoolExecutor:
    """Clip processes: spawned (MediaPipe and threads do not survive fork), and gone when we are."""
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=exit_with_parent, initargs=(os.getpid(),))


def failure(index: int, span: Span, reason: str) -> dict:
    return {"clip": clip_name(index), "start_s": round(span.start_s, 3), "end_s": round(span.end_s, 3),
            "reason": reason}


def write_manifest(root: Path, clips: list[dict]) -> list[dict]:
    """manifest.jsonl: one line per complete clip (ClipRecord.manifest_line), the catalog's import format;
    returns the lines."""
    lines = [ClipRecord.from_dict(meta).manifest_line() for meta in clips]
    with atomic_output(root / "manifest.jsonl") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
    return lines
