"""Benchmark the catalog at 100,000 clips and a 2 GB resumable upload, over loopback.

    .venv/bin/python bench/catalog_bench.py [--clips 100000] [--upload-gb 2]

Seeds a throwaway SQLite database (or, with DATABASE_URL set, empties and seeds that PostgreSQL
database), starts the web server, logs in, and prints
p50/p95 page times for the dataset list and filtered/sorted clip tables; then
uploads a file in 8 MB tus chunks and prints its throughput next to a plain
disk copy of the same file, with the server's RSS before and after.
"""
from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.web_harness import rss_mib, running_server, seed_database  # noqa: E402


def seed(data_dir: Path, clips: int) -> int:
    """One dataset of ``clips`` clips over 20 videos, a tenth of them tagged; return the dataset id."""
    snippet = f"""
dropped = [{{"start_s": 30.0 * k, "end_s": 30.0 * k + 1.2, "duration_s": 1.2, "reason": "shorter than min_clip"}}
           for k in range(40)]
videos = [Video.objects.create(dataset=ds, source_name=f"talk_{{i:02d}}.mp4", output_dir="/nonexistent", status="done",
                               report={{"source": f"talk_{{i:02d}}.mp4", "dropped_segments": dropped, "failed_clips": [],
                                       "params": {{"quality_threshold": 60.0}}}})
          for i in range(20)]
tags = [Tag.objects.create(dataset=ds, name=n) for n in ("good", "noisy", "check")]
rng = random.Random(0)
batch = []
for i in range({clips}):
    lag = rng.gauss(60, 80)
    batch.append(Clip(dataset=ds, video=videos[i % 20], source_name=videos[i % 20].source_name,
                      name=f"clip_{{i:06d}}", source_start_s=i * 7.0,
                      source_end_s=i * 7.0 + 5, duration_s=rng.uniform(2, 180), fps=25, frames=125, face_frames=120,
                      face_rate=rng.uniform(0.5, 1), quality_score=rng.uniform(20, 100), valid_rate=rng.random(),
                      smoothness=rng.random(), range_validity=1.0, lip_sync_offset_ms=lag, lip_sync_offset_abs_ms=abs(lag),
                      lip_sync_confidence=rng.uniform(-1, 8), speech_ratio=rng.random(), files={{}},
                      lip_sync_verdict=rng.choice(["in_sync", "in_sync", "no_reliable_offset", "mismatch"]),
                      face_speaking=rng.random() > 0.1, quality_reasons=[],
                      quality={{"valid_rate": rng.random(), "smoothness": rng.random(), "range_validity": 1.0,
                               "jitter": rng.uniform(0.0005, 0.01), "mouth_activity": rng.uniform(0, 0.1),
                               "interocular_px": rng.uniform(20, 200), "yaw_range": rng.uniform(0, 30),
                               "yaw_max_abs": rng.uniform(0, 60), "pitch_range": rng.uniform(0, 20),
                               "pitch_max_abs": rng.uniform(0, 40), "sharpness": rng.uniform(10, 400),
                               "brightness": rng.uniform(30, 230), "multi_face_rate": rng.choice([0, 0, 0, 0.2]),
                               "lip_sync_confidence": rng.uniform(-1, 8), "lip_sync_offset_ms": lag,
                               "lip_sync_verdict": "in_sync", "face_speaking": True}}))
    if len(batch) == 5000:
        Clip.objects.bulk_create(batch); batch = []
Clip.objects.bulk_create(batch)
through = Clip.tags.through
ids = list(Clip.objects.filter(dataset=ds).values_list("id", flat=True)[::10])
through.objects.bulk_create([through(clip_id=c, tag_id=tags[c % 3].id) for c in ids], batch_size=5000)
refresh_planner_stats()  # as import_dataset does after adding clips
print(ds.id)
"""
    return int(seed_database(data_dir, "member", snippet))


class Session:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path) as r:
            return r.read()

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"X-CSRFToken": self.csrf(), "Referer": self.base + "/", **(headers or {})})
        return self.opener.open(req)

    def login(self, user: str, password: str) -> None:
        page = self.get("/accounts/login/").decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": user, "password": password, "csrfmiddlewaretoken": token}).encode()
        self.request("POST", "/accounts/login/", body, {"Content-Type": "application/x-www-form-urlencoded"}).read()


@contextlib.contextmanager
def seeded_session(prefix: str, clips: int) -> Iterator[tuple[Session, int, int, Path]]:
    """A fresh database with ``clips`` seeded clips, the server running on it and a logged-in session;
    yields (session, dataset id, server pid, data folder)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {database}")
    t = time.perf_counter()
    dataset = seed(work, clips)
    print(f"seeded {clips} clips in {time.perf_counter() - t:.1f} s")
    with running_server(work) as (base, server_pid):
        session = Session(base)
        session.login("bench", "bench-password-123")
        yield session, dataset, server_pid, work


def timed(session: Session, path: str, repeats: int) -> tuple[float, float]:
    session.get(path)  # warm
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        session.get(path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--upload-gb", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    with seeded_session("bench-catalog-", args.clips) as (session, dataset, server_pid, work):
        pages = {
            "dataset list": "/",
            "clip table": f"/datasets/{dataset}/",
            "filtered (score>=60, duration<=30)": f"/datasets/{dataset}/?score_min=60&duration_max=30",
            "sorted by score desc": f"/datasets/{dataset}/?sort=-score",
            "filtered + sorted by |lag|, page 50": f"/datasets/{dataset}/?score_min=40&face_min=0.7&sort=lag&page=50",
            "tag filter, sorted by source": f"/datasets/{dataset}/?tag=noisy&sort=video",
        }
        for name, path in pages.items():
            p50, p95 = timed(session, path, args.repeats)
            print(f"  {name:40s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")

        size = int(args.upload_gb * 1024**3)
        source = work / "upload.bin"
        with open(source, "wb") as fh:
            block = random.Random(1).randbytes(8 * 1024**2)
            for _ in range(max(size // len(block), 1)):
                fh.write(block)
        size = source.stat().st_size  # whole 8 MiB blocks
        t = time.perf_counter()
        shutil.copyfile(source, work / "copy.bin")
        with open(work / "copy.bin", "rb+") as fh:
            os.fsync(fh.fileno())
        copy_s = time.perf_counter() - t
        os.unlink(work / "copy.bin")
        rss_before = rss_mib(server_pid)
        created = session.request("POST", f"/datasets/{dataset}/uploads/", b"", {
            "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
            "Upload-Metadata": "filename dXBsb2FkLmJpbg=="})
        url = created.headers["Location"]
        chunk = 8 * 1024**2
        peak = rss_before
        t = time.perf_counter()
        with open(source, "rb") as fh:
            offset = 0
            while offset < size:
                data = fh.read(chunk)
                try:
                    session.request("PATCH", url, data, {"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                                                         "Content-Type": "application/offset+octet-stream"}).read()
                except urllib.error.HTTPError as exc:  # the last chunk: random bytes are rejected as "not a video"
                    if exc.code != 422:
                        raise
                offset += len(data)
                peak = max(peak, rss_mib(server_pid))
        upload_s = time.perf_counter() - t
        print(f"upload {size / 1024**3:.1f} GiB in 8 MiB tus chunks: {size / upload_s / 1e6:.0f} MB/s; plain disk copy "
              f"{size / copy_s / 1e6:.0f} MB/s; ratio {copy_s / upload_s:.2f}")
        print(f"server RSS: {rss_before:.0f} MiB before, peak {peak:.0f} MiB during the upload")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
