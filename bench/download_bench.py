"""Benchmark a filtered zip download of about 1 GB over loopback, with an API token.

    .venv/bin/python bench/download_bench.py [--gb 1]

Creates clip files (random bytes, 5 MB "videos" and small data files) for 100,000
clips' worth of catalog rows (only the first few hundred carry the big files),
starts the web server, downloads the filtered zip with a token and prints the
first-byte time, the throughput next to reading the same files from disk, and the
server's RSS.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.web_harness import rss_mib, running_server, seed_database  # noqa: E402


def seed(data_dir: Path, clips_with_files: int, total_clips: int) -> tuple[int, str, list[Path]]:
    folder = data_dir / "dataset"
    (folder / "clips").mkdir(parents=True)
    (folder / "data").mkdir()
    rng = random.Random(0)
    blob = rng.randbytes(5 * 1024**2)
    paths = []
    for i in range(clips_with_files):
        video = folder / "clips" / f"clip_{i:06d}.mp4"
        video.write_bytes(blob)
        csv_file = folder / "data" / f"clip_{i:06d}_blendshapes.csv"
        csv_file.write_bytes(blob[:200_000])
        paths += [video, csv_file]
    snippet = f"""
from accounts.tokens import issue
video = Video.objects.create(dataset=ds, source_name="talk.mp4", output_dir={str(folder)!r}, status="done")
rng = random.Random(0)
batch = []
for i in range({total_clips}):
    has = i < {clips_with_files}
    files = {{"video": {{"path": f"clips/clip_{{i:06d}}.mp4", "bytes": 0, "sha256": ""}},
              "blendshapes": {{"path": f"data/clip_{{i:06d}}_blendshapes.csv", "bytes": 0, "sha256": ""}}}} if has else {{}}
    batch.append(Clip(dataset=ds, video=video, source_name="talk.mp4", name=f"clip_{{i:06d}}", source_start_s=i,
                      source_end_s=i + 5, duration_s=5, fps=25, frames=125, face_frames=125, face_rate=1.0,
                      quality_score=95 if has else rng.uniform(0, 80), valid_rate=1, smoothness=0.5, range_validity=1,
                      lip_sync_offset_ms=10, lip_sync_offset_abs_ms=10, speech_ratio=0.8, files=files))
    if len(batch) == 5000:
        Clip.objects.bulk_create(batch); batch = []
Clip.objects.bulk_create(batch)
refresh_planner_stats()
print(ds.id, issue(user, "bench"))
"""
    dataset, token = seed_database(data_dir, "viewer", snippet).split()
    return int(dataset), token, paths


def drop_page_cache() -> bool:
    """Make the next reads come from the disk (needs root); False when not allowed."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


def read_from_disk(paths: list[Path], cold: bool) -> float:
    if cold:
        drop_page_cache()
    t = time.perf_counter()
    for p in paths:
        with open(p, "rb") as fh:
            while fh.read(1 << 20):
                pass
    return time.perf_counter() - t


def download(client: str, url: str, token: str) -> tuple[float, int, float]:
    """(first-byte seconds, bytes, total seconds)."""
    if client == "curl":
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", f"Authorization: Token {token}", "-w",
                              "%{time_starttransfer} %{size_download} %{time_total}", url],
                             capture_output=True, text=True, check=True).stdout.split()
        return float(out[0]), int(out[1]), float(out[2])
    return python_download(url, token)


def python_download(url: str, token: str) -> tuple[float, int, float]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    t = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        first = response.read(1)
        first_byte = time.perf_counter() - t
        received = len(first)
        while block := response.read(1 << 20):
            received += len(block)
    return first_byte, received, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--client", choices=("curl", "python"), default="curl" if shutil.which("curl") else "python",
                        help="who downloads: curl (what a script would use) or urllib")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", action="store_true", help="keep the page cache (measures the server, not the disk)")
    args = parser.parse_args()
    clips_with_files = int(args.gb * 1024**3 / (5 * 1024**2 + 200_000))
    work = Path(tempfile.mkdtemp(prefix="bench-download-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    dataset, token, paths = seed(work, clips_with_files, 100_000)
    total = sum(p.stat().st_size for p in paths)
    cold = not args.warm and drop_page_cache()
    state = "cold page cache (dropped before each read and download)" if cold else "warm page cache"
    print(f"client: {args.client}; {state}; {args.rounds} rounds of disk read, download")
    ratios = []
    with running_server(work) as (base, server_pid):
        rss_before, peak = rss_mib(server_pid), [0.0]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(server_pid))
                time.sleep(0.2)

        threading.Thread(target=watch, daemon=True).start()
        url = f"{base}/datasets/{dataset}/download/?score_min=90&files=video,blendshapes"
        for _ in range(args.rounds):  # alternate, so both see the same machine state
            disk_rate = total / read_from_disk(paths, cold)
            if cold:
                drop_page_cache()
            first_byte, received, download_s = download(args.client, url, token)
            rate = received / download_s
            ratios.append(rate / disk_rate)
            print(f"  zip {received / 1e9:.2f} GB ({clips_with_files} clips of 100,000 matched): first byte after "
                  f"{first_byte * 1000:.0f} ms, {rate / 1e6:.0f} MB/s; disk read {disk_rate / 1e6:.0f} MB/s; "
                  f"ratio {rate / disk_rate:.2f}")
        done.set()
        print(f"ratio median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
              f"server RSS {rss_before:.0f} MiB before, peak {peak[0]:.0f} MiB during the downloads")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
