"""Benchmark make_dataset over many recordings: one run over a folder of 10 against 10 single runs.

    .venv/bin/python bench/many_recordings_bench.py [--recordings 10] [--minutes 1] [--workers N]

The recordings are the shared talking faces repeated to ``--minutes`` each (bench.long_media.repeat_clip), cycling
through them.  Both ways are timed as whole commands (process start, model loading and every recording's
planning included), on the same machine, one after the other.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.long_media import SHARED_MEDIA, repeat_clip  # noqa: E402

SOURCES = ("retalk_face1.mp4", "retalk_face2.mp4", "retalk_face3.mp4", "hdtf_WDA_AlexandriaOcasioCortez_000.mp4",
           "hdtf_WDA_KatieHill_000.mp4", "talk3.mp4")


def run(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "manage.py"), "make_dataset", *args, "--no-progress"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recordings", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="bench-many-"))
    talks = work / "talks"
    talks.mkdir()
    for i in range(args.recordings):
        repeat_clip(SHARED_MEDIA / SOURCES[i % len(SOURCES)], talks / f"talk_{i:02d}.mp4", args.minutes)
    options = ["--min_clip", "5", "--max_gap", "1.5"] + (["--workers", str(args.workers)] if args.workers else [])
    singles = sum(run([str(p), "-o", str(work / "single" / p.stem), *options]) for p in sorted(talks.iterdir()))
    many = run([str(talks), "-o", str(work / "many"), *options])
    print(f"{args.recordings} recordings of {args.minutes:g} min: {args.recordings} single make_dataset runs {singles:.1f} s, "
          f"one run over the folder {many:.1f} s ({singles / many:.2f}x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
