"""Benchmark the extract path against bare MediaPipe, and its memory on a long input.

    .venv/bin/python bench/extract_throughput.py [--minutes 10] [--skip-long]

(a) bare ``detect_for_video`` on frames decoded into memory beforehand, and
(b) the full ``extract`` path (decode + rotate/copy + track + retry + CSV write),
on the same video in one run; prints frames/s of both and (b)/(a).  Then runs
``manage.py extract`` on a short and a long concatenated recording and prints
each run's peak RSS (it must not grow with length).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.long_media import SHARED_MEDIA, repeat_clip  # noqa: E402


def bare_mediapipe_fps(video: Path) -> tuple[float, int]:
    """Frames/s of bare detect_for_video on pre-decoded frames (same options as the product)."""
    import mediapipe as mp
    import numpy as np
    from mediapipe.tasks.python import BaseOptions, vision

    from pipeline.media.decode import VideoFrameReader
    from pipeline.face.model import DEFAULT_MODEL_PATH
    from pipeline.quiet import native_stderr_silenced

    frames = [(f.rgb, f.time_s) for f in VideoFrameReader(video)]
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(DEFAULT_MODEL_PATH)),
        running_mode=vision.RunningMode.VIDEO, num_faces=1,
        output_face_blendshapes=True, output_facial_transformation_matrixes=True)
    with native_stderr_silenced():
        landmarker = vision.FaceLandmarker.create_from_options(options)
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8)), 0)
    origin = frames[0][1]
    started = time.perf_counter()
    for rgb, t in frames:
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(round((t - origin) * 1000)) + 1)
    elapsed = time.perf_counter() - started
    landmarker.close()
    return len(frames) / elapsed, len(frames)


def full_extract_fps(video: Path, out: Path) -> tuple[float, float]:
    """Frames/s of extract_blendshapes end to end, and without the one-off model loading."""
    from pipeline.face.extract import extract_blendshapes

    started = time.perf_counter()
    summary = extract_blendshapes(video, out)
    elapsed = time.perf_counter() - started
    return summary.frames / elapsed, summary.frames / (elapsed - summary.model_load_s)


def extract_command_rss(video: Path, out: Path) -> tuple[float, float, int]:
    """Run the command in a child; return (seconds, peak RSS MiB, frames)."""
    code = (
        "import os, resource, subprocess, sys, time;"
        "t=time.perf_counter();"
        f"p=subprocess.run([sys.executable, 'manage.py', 'extract', '--no-progress', '--video', {str(video)!r}, '--output', {str(out)!r}], capture_output=True, text=True);"
        "el=time.perf_counter()-t;"
        "print(p.returncode, el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.stdout.strip(), p.stderr.strip()[-300:], sep='|')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    rc, seconds, rss_kb, stdout, stderr = result.stdout.strip().split("|", 4)
    if rc != "0":
        raise SystemExit(f"extract failed on {video}: {stderr}")
    frames = int(stdout.split(": ")[1].split(" frames")[0])
    return float(seconds), int(rss_kb) / 1024, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the long input")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of (a) and (b); medians are printed")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    for name in ("talk3.mp4", "pyfeat_WolfgangLanger_Pexels.mp4"):
        video = SHARED_MEDIA / name
        # alternate (a) and (b) three times and keep medians: single short runs vary by +-10% here
        bares, fulls, steadies = [], [], []
        for _ in range(args.repeats):
            bare, frames = bare_mediapipe_fps(video)
            full, steady = full_extract_fps(video, work / f"{name}.csv")
            bares.append(bare), fulls.append(full), steadies.append(steady)
        bare, full, steady = (statistics.median(v) for v in (bares, fulls, steadies))
        print(f"{name}: {frames} frames, median of {args.repeats} | (a) bare MediaPipe {bare:6.1f} frames/s | "
              f"(b) full extract {full:6.1f} frames/s end to end, {steady:6.1f} without model loading | "
              f"(b)/(a) = {full / bare:.2f} end to end, {steady / bare:.2f} without model loading")
    if args.skip_long:
        return
    for minutes in (1.0, args.minutes):
        video = repeat_clip(SHARED_MEDIA / "talk3.mp4", work / f"talk3_{minutes:g}min.mp4", minutes)
        seconds, rss, frames = extract_command_rss(video, work / f"long_{minutes:g}.csv")
        print(f"manage.py extract on {minutes:g}-minute input: {frames} frames in {seconds:.1f} s "
              f"({frames / seconds:.1f} frames/s including process start-up; bare MediaPipe above: "
              f"{bare:.1f}), peak RSS {rss:.0f} MiB")
    print(f"(work files in {work})")


if __name__ == "__main__":
    main()
