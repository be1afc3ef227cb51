"""Benchmark the training export and the baseline.

    .venv/bin/python bench/training_bench.py [--clips 100000] [--train-hours 1]

Builds one real clip (retalk_face2.mp4 from the shared media, 125 frames) with make_dataset, then
exports it as ``--clips`` clips (every clip reads that clip's files: the export's own cost, with the
files in the page cache) the way the dashboard streams it, counting bytes; prints frames/s and peak
RSS.  Then writes an export of ``--train-hours`` of such clips (one video per 20 clips, seeded split)
and times the baseline's training and held-out evaluation.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def media(name: str) -> Path:
    return Path(os.environ.get("SHARED_MEDIA", REPO.parent / "shared" / "media")) / name


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from dataclasses import replace

    from pipeline.training import baseline
    from pipeline.dataset.build import DatasetParams, build_dataset
    from pipeline.audio.segment import SegmentParams
    from pipeline.training.training_data import TrainingExport
    from pipeline.training.training_export import (
        assign_splits,
        clips_from_folder,
        export_entries,
        write_export,
    )

    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--train-hours", type=float, default=1.0)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="bench-training-"))
    result = build_dataset(media("retalk_face2.mp4"), work / "one", DatasetParams(segment=SegmentParams(min_clip=1.0)),
                           workers=1)
    [template] = clips_from_folder(result.root)
    frames_per_clip = result.clips[0]["frames"]

    def many(n: int, per_video: int = 20):
        for i in range(n):
            yield replace(template, clip_id=i, name=template.name, video=f"video_{i // per_video:05d}")

    videos = {f"video_{i // 20:05d}" for i in range(args.clips)}
    splits = assign_splits(videos, seed=0)
    rss_before = peak_rss_mib()
    t = time.perf_counter()
    size = 0
    for _, data in export_entries(many(args.clips), splits, seed=0):
        size += len(data)
    seconds = time.perf_counter() - t
    frames = args.clips * frames_per_clip
    print(f"export of {args.clips} clips ({frames} frames): {seconds:.1f} s, {frames / seconds:,.0f} frames/s, "
          f"{size / 1e6:.0f} MB of Parquet; peak RSS {rss_before:.0f} -> {peak_rss_mib():.0f} MiB")

    clips = max(1, round(args.train_hours * 3600 * 25 / frames_per_clip))
    videos = {f"video_{i // 20:05d}" for i in range(clips)}
    out = write_export(export_entries(many(clips), assign_splits(videos, seed=0), seed=0), work / "hour")
    t = time.perf_counter()
    model, metrics = baseline.train_on_export(TrainingExport(out))
    print(f"baseline on {args.train_hours:g} h of clips ({metrics['train_frames']} training frames, "
          f"{metrics['frames']} held-out): {time.perf_counter() - t:.1f} s including loading the export")


if __name__ == "__main__":
    main()
