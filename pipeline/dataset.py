"""make_dataset: one long recording -> a folder of speech clips with frame-aligned data.

Stages: probe + checks, audio decode (16 kHz mono), speech segmentation, one
exact cutting pass over the source, then per clip in worker processes
(blendshapes, audio features, QC, metadata), then manifest and reports.
Reruns skip clips whose metadata and files are complete for the same
parameters; clips are handed to workers as soon as they are cut.
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

from .atomic import atomic_output
from .audio import decode_audio, write_wav
from .clip_files import ClipFiles, clip_name, load_complete_metadata, remove_partials
from .clip_job import ClipFailed, ClipJob, process_clip
from .cut import ClipRequest, CutClip, EncodeSettings, cut_clips
from .errors import InputError, OutputError
from .features import FeatureParams
from .probe import probe
from .progress import ProgressFactory, silent
from .qc import QcParams
from .report import write_reports
from .segment import SegmentParams, segment_speech
from .smoothing import make_smoother

AUDIO_SHORTER_TOLERANCE_S = 0.5


@dataclass
class DatasetParams:
    segment: SegmentParams = field(default_factory=SegmentParams)
    smooth: str = "none"
    f0_method: str = "dio"
    quality_threshold: float = 60.0  # clips below it are listed in the report
    qc: QcParams = field(default_factory=QcParams)
    model: str | None = None
    encode: EncodeSettings = field(default_factory=EncodeSettings)

    def as_dict(self) -> dict:
        return {"segment": asdict(self.segment), "smooth": self.smooth, "f0": self.f0_method,
                "qc": asdict(self.qc), "quality_threshold": self.quality_threshold, "encode": asdict(self.encode)}


@dataclass
class DatasetResult:
    root: Path
    clips: list[dict]  # metadata of every complete clip, in order
    failed: list[dict]  # {"clip", "start_s", "end_s", "reason"}
    dropped: list[dict]
    skipped: int  # clips already complete from an earlier run
    stage_seconds: dict[str, float]
    report: dict


def params_key(source: Path, params: DatasetParams) -> str:
    """Changes whenever the input file or any parameter that shapes the output changes."""
    stat = source.stat()
    ident = {"source": source.name, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, **params.as_dict()}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def prepare_output(root: Path) -> None:
    try:
        (root / "clips").mkdir(parents=True, exist_ok=True)
        (root / "data").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(root, f"cannot create the dataset folder ({exc.strerror})") from None
    if not os.access(root / "data", os.W_OK):
        raise OutputError(root, "permission denied: cannot write in the dataset folder")


def build_dataset(source: str | os.PathLike[str], output: str | os.PathLike[str], params: DatasetParams = DatasetParams(),
                  workers: int | None = None, progress: ProgressFactory = silent) -> DatasetResult:
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
    audio = decode_audio(source)
    stages["audio_decode"] = time.perf_counter() - t
    if info.duration_s is not None:
        video_end = info.start_time_s + info.duration_s
        if audio.end_time_s < video_end - AUDIO_SHORTER_TOLERANCE_S:
            raise InputError(source, f"the audio track ends at {audio.end_time_s:.2f} s but the video runs to "
                                     f"{video_end:.2f} s: audio shorter than video, clips after it would be silent")

    t = time.perf_counter()
    segmentation = segment_speech(audio, params.segment)
    stages["segmentation"] = time.perf_counter() - t

    key = params_key(source, params)
    complete: dict[int, dict] = {}
    requests: list[ClipRequest] = []
    for index, span in enumerate(segmentation.clips):
        files = ClipFiles(root, clip_name(index))
        meta = load_complete_metadata(files, key)
        if meta is not None:
            complete[index] = meta
        else:
            requests.append(ClipRequest(index, files.video, span.start_s, span.end_s))
    skipped = len(complete)

    failed: list[dict] = []
    results: dict[int, dict] = dict(complete)
    if requests:
        workers = max(1, workers or os.cpu_count() or 1)
        cut_bar = progress("cutting", float(info.duration_s or 0) or None, "s")
        clip_bar = progress("clips", len(requests), "clip")
        futures: dict[cf.Future, CutClip] = {}
        t = time.perf_counter()
        context = multiprocessing.get_context("spawn")  # MediaPipe and threads do not survive fork
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            last = [0.0]

            def on_time(now: float) -> None:
                cut_bar.update(max(now - last[0], 0.0))
                last[0] = max(now, last[0])

            def on_done(clip: CutClip) -> None:
                files = ClipFiles(root, clip_name(clip.index))
                write_wav(files.wav, audio.slice(clip.start_s, clip.end_s), audio.sample_rate)
                margin = params.qc.max_lag_s + 0.05
                context_start = max(clip.start_s - margin, audio.start_time_s)
                job = ClipJob(root=str(root), name=files.name, index=clip.index, source=source.name,
                              source_start_s=clip.start_s, source_end_s=clip.end_s, audio_padded_s=clip.audio_padded_s,
                              speech_ratio=segmentation.speech_ratio(clip.start_s, clip.end_s, audio.start_time_s),
                              params_key=key, sync_context=audio.slice(context_start, clip.end_s + margin),
                              sync_context_start_s=context_start - clip.start_s,
                              params=params.as_dict(), smooth=params.smooth,
                              feature_params=FeatureParams(f0_method=params.f0_method), qc=params.qc, model=params.model)
                futures[pool.submit(process_clip, job)] = clip

            try:
                cut = cut_clips(source, requests, params.encode, progress=on_time, on_done=on_done)
            finally:
                cut_bar.close()
            stages["cutting"] = time.perf_counter() - t
            cut_indices = {c.index for c in cut}
            for request in requests:
                if request.index not in cut_indices:
                    failed.append({"clip": clip_name(request.index), "start_s": round(request.start_s, 3),
                                   "end_s": round(request.end_s, 3), "reason": "no video frame in this span"})
            for future in cf.as_completed(futures):
                clip = futures[future]
                try:
                    results[clip.index] = future.result()
                except ClipFailed as exc:
                    failed.append({"clip": clip_name(clip.index), "start_s": round(clip.start_s, 3),
                                   "end_s": round(clip.end_s, 3), "reason": str(exc)})
                except Exception as exc:  # noqa: BLE001 - one clip's crash must not sink the others
                    failed.append({"clip": clip_name(clip.index), "start_s": round(clip.start_s, 3),
                                   "end_s": round(clip.end_s, 3), "reason": f"{type(exc).__name__}: {exc}"})
                clip_bar.update(1)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # stop promptly: drop clips not started yet
            raise
        pool.shutdown(wait=True)
        clip_bar.close()
        stages["clips"] = time.perf_counter() - t - stages["cutting"]
    clips = [results[i] for i in sorted(results)]
    failed.sort(key=lambda f: f["clip"])
    write_manifest(root, clips)
    stages["total"] = time.perf_counter() - started
    report = write_reports(root, source, info, audio.duration_s, segmentation, clips, failed, params, stages)
    return DatasetResult(root, clips, failed, segmentation.dropped, skipped, stages, report)


def write_manifest(root: Path, clips: list[dict]) -> None:
    """manifest.jsonl: one line per complete clip, the catalog's import format."""
    with atomic_output(root / "manifest.jsonl") as fh:
        for meta in clips:
            line = {
                "clip": meta["clip"],
                "source": meta["source"],
                "source_start_s": meta["source_start_s"],
                "source_end_s": meta["source_end_s"],
                "duration_s": meta["duration_s"],
                "fps": meta["fps"],
                "frames": meta["frames"],
                "face_frames": meta["face_frames"],
                "quality_score": meta["quality_score"],
                "valid_rate": meta["quality"]["valid_rate"],
                "smoothness": meta["quality"]["smoothness"],
                "range_validity": meta["quality"]["range_validity"],
                "av_lag_ms": meta["av_sync"]["lag_ms"],
                "av_correlation": meta["av_sync"]["correlation"],
                "av_sync_weak": meta["av_sync"]["weak"],
                "speech_ratio": meta["speech_ratio"],
                "metadata": f"data/{meta['clip']}_metadata.json",
                "files": meta["files"],
            }
            fh.write(json.dumps(line) + "\n")
