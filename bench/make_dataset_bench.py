"""Benchmark make_dataset on a 30-minute talk built by repeating talk3.mp4.

    .venv/bin/python bench/make_dataset_bench.py [--minutes 30] [--workers N] [-- extra make_dataset options]

Prints per stage: seconds and the ratio to realtime; peak RSS (largest process
and whole process tree); the decode+track+encode stage's frames/s next to bare
MediaPipe's on frames of the same clips in the same run; and how far the
dataset's blendshapes (from the source frames) are from what MediaPipe gives on
the decoded clip file (the lossy re-encode older versions analysed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.extract_throughput import bare_mediapipe_fps  # noqa: E402
from bench.long_media import SHARED_MEDIA, repeat_clip  # noqa: E402


def tree_rss_mib(root_pid: int) -> tuple[float, float]:
    """(sum, largest) RSS over ``root_pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, largest, stack = 0, 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total / 2**20, largest / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("extra", nargs="*", help="more make_dataset options (after --)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    video = repeat_clip(SHARED_MEDIA / "talk3.mp4", work / f"talk_{args.minutes:g}min.mp4", args.minutes)
    out = work / "dataset"
    # a continuous talk, merged across pauses; talk3's three talking segments are shots of their own (5-6 s
    # between cuts), so each clip is one segment: --min_clip 4 keeps them.  Extra options are added to these.
    options = ["--max_gap", "2.5", "--min_clip", "4", *args.extra]
    cmd = [sys.executable, "manage.py", "make_dataset", "--no-progress", str(video), "-o", str(out), *options]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("command:", " ".join(cmd[1:]))
    peak_tree = [0.0, 0.0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def watch() -> None:
        while proc.poll() is None:
            total, largest = tree_rss_mib(proc.pid)
            peak_tree[0], peak_tree[1] = max(peak_tree[0], total), max(peak_tree[1], largest)
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"make_dataset failed: {stderr.strip()[-500:]}")
    import resource

    peak_single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = json.loads((out / "dataset_report.json").read_text())
    duration = report["source_duration_s"]
    stages = report["stage_seconds"]
    print(stdout.strip().splitlines()[0])
    print(f"input: {duration / 60:.1f} min; whole command {wall:.1f} s = {duration / wall:.1f}x realtime")
    for stage, seconds in stages.items():
        print(f"  {stage:14s} {seconds:8.2f} s  {duration / seconds if seconds else float('inf'):8.1f}x realtime")
    metas = [json.loads(p.read_text()) for p in sorted((out / "data").glob("*_metadata.json"))]
    if not metas:
        raise SystemExit("no clip was made: choose options that keep clips (the talk repeats talk3, whose talking "
                         "segments are 5-6 s between cuts: add --min_clip 4)")
    frames = sum(m["frames"] for m in metas)
    blend = sum(m["timings"]["decode_track_encode_s"] for m in metas)
    feats = sum(m["timings"]["features_s"] for m in metas)
    audio_s = sum(m["duration_s"] for m in metas)
    print(f"  decode + blendshapes + encode: {frames} frames, {frames / blend:.1f} frames/s per worker process, "
          f"{frames / stages['clips']:.1f} frames/s across workers (clip stage wall time)")
    print(f"  audio features: {audio_s / feats:.1f}x realtime per worker process")
    qc = sum(m["timings"]["qc_s"] for m in metas)
    visual = sum(m["timings"].get("visual_qc_s", 0.0) for m in metas)
    workers = min(len(metas), args.workers or os.cpu_count() or 1)
    print(f"  QC: {qc:.1f} s repair + metrics + lip sync, {visual:.1f} s visual sampling, in all "
          f"{(qc + visual) / (audio_s / 60):.2f} s per clip-minute; about {(qc + visual) / workers:.1f} s of the "
          f"wall time with {workers} workers = {100 * (qc + visual) / workers / wall:.1f}% of the whole command")
    if (out / "clips" / "clip_0000.mp4").is_file():  # not with --clip_video none
        bare, n = bare_mediapipe_fps(out / "clips" / "clip_0000.mp4")
        print(f"  bare MediaPipe on {n} frames of clip_0000 in this run: {bare:.1f} frames/s (one process)")
        mean_diff, max_diff, lost = source_vs_clip_file(out, "clip_0000")
        print(f"  blendshapes from the source frames vs MediaPipe on the decoded clip file (clip_0000): "
              f"mean |diff| {mean_diff:.4f}, max {max_diff:.3f}, faces found only on the source frames: {lost}")
    print(f"peak RSS: largest process {peak_single:.0f} MiB (getrusage; sampled: {peak_tree[1]:.0f} MiB), "
          f"whole process tree {peak_tree[0]:.0f} MiB (sampled every 0.5 s)")
    print(f"(work files in {work})")


def source_vs_clip_file(out: Path, name: str) -> tuple[float, float, int]:
    """The dataset's CSV rows against a fresh VIDEO-mode tracker run on the decoded clip file's frames."""
    import csv

    import numpy as np

    from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
    from pipeline.media.decode import VideoFrameReader
    from pipeline.face.extract import track_frames
    from pipeline.face.landmarks import FaceLandmarkTracker

    with open(out / "data" / f"{name}_blendshapes.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ours = np.array([[float(r[n]) if r["face"] == "1" else np.nan for n in MEDIAPIPE_NAMES] for r in rows])
    with FaceLandmarkTracker(retry_fresh=False) as tracker:
        records = list(track_frames(VideoFrameReader(out / "clips" / f"{name}.mp4"), tracker))
    clip = np.array([r.blendshapes if r.face else np.full(52, np.nan) for r in records])
    both = ~np.isnan(ours).any(axis=1) & ~np.isnan(clip).any(axis=1)
    lost = int((~np.isnan(ours).any(axis=1) & np.isnan(clip).any(axis=1)).sum())
    diff = np.abs(ours[both] - clip[both])
    return float(diff.mean()), float(diff.max()), lost


if __name__ == "__main__":
    main()
