"""Fan-out speed-up: one long video as a web job through django-q2, with 1 worker process and with 2.

    .venv/bin/python bench/fanout_bench.py [--minutes 30] [--workers 1 2] [--no-reference]

For each worker count: a fresh DATA_DIR and database (SQLite, or the PostgreSQL database named by
DATABASE_URL, which is flushed first), one cluster with Q_WORKERS=N, the video queued as an upload queues
it, timed from the queue to "done".  Then ``make_dataset`` on the same file with the same settings, and a
comparison: the same clips (names and spans) and the same bytes in every data file (CSV, JSON) and clip.
"""
from __future__ import annotations

import argparse
import hashlib
import json
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
from bench.web_harness import seed_database  # noqa: E402

PARAMS = {"max_gap": 2.5}  # a continuous talk: merged across pauses, split at max_clip (as make_dataset_bench)

_QUERY = """
import django, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataset_site.settings")
django.setup()
from catalog.models import Video
from jobs.models import ClipTask
v = Video.objects.get(pk=int(sys.argv[1]))
print(json.dumps({"status": v.status, "error": v.error, "done": v.clips_done, "total": v.clips_total,
                  "workers": sorted(set(ClipTask.objects.filter(video=v).values_list("worker", flat=True)))}))
"""


def files_digest(root: Path) -> dict[str, str]:
    """sha256 of every clip and data file under ``root`` (relative path -> digest); a clip's metadata is
    compared without its "timings" (seconds each stage took), the one field that differs from run to run."""
    digests = {}
    for folder in ("clips", "data"):
        for path in sorted((root / folder).glob("*")):
            if path.is_file() and not path.name.startswith("."):
                data = path.read_bytes()
                if path.name.endswith("_metadata.json"):
                    meta = json.loads(data)
                    meta.pop("timings", None)
                    data = json.dumps(meta, sort_keys=True).encode()
                digests[f"{folder}/{path.name}"] = hashlib.sha256(data).hexdigest()
    return digests


def run_job(video: Path, workers: int, work: Path) -> tuple[float, Path, dict]:
    data_dir = work / f"data-{workers}"
    out = work / f"job-{workers}"
    snippet = f"""
v = Video.objects.create(dataset=ds, source_name={video.name!r}, source_path={str(video)!r},
                         output_dir={str(out)!r}, params={PARAMS!r}, uploaded_by=user)
print(v.pk)
"""
    pk = seed_database(data_dir, "member", snippet)
    env = {**os.environ, "DATA_DIR": str(data_dir), "Q_WORKERS": str(workers)}
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(3)  # the cluster's processes are up (as on a server that runs all day)
        enqueue = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dataset_site.settings'); "
                   "django.setup(); from catalog.models import Video; from jobs.messages import enqueue; "
                   f"enqueue(Video.objects.get(pk={pk}))")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", enqueue], cwd=REPO, env=env, check=True, capture_output=True)
        while True:
            state = json.loads(subprocess.run([sys.executable, "-c", _QUERY, pk], cwd=REPO, env=env, check=True,
                                              capture_output=True, text=True).stdout)
            if state["status"] in ("done", "failed"):
                break
            time.sleep(2)
        wall = time.perf_counter() - started
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, 9)
    if state["status"] != "done":
        raise SystemExit(f"the job failed: {state['error']}")
    return wall, out, state


def run_make_dataset(video: Path, work: Path) -> tuple[float, Path]:
    out = work / "make_dataset"
    options = [f"--{k}={v}" for k, v in PARAMS.items()]
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "make_dataset", "--no-progress", str(video), "-o", str(out),
                    *options], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "DATA_DIR": str(work / "data-md")})
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-reference", action="store_true", help="skip the make_dataset comparison")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    cache = Path(tempfile.gettempdir()) / f"bench-talk-{args.minutes:g}min.mp4"
    video = repeat_clip(SHARED_MEDIA / "talk3.mp4", cache, args.minutes)
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {database}")
    print(f"video: {video.name}, {args.minutes:g} min; params {PARAMS}")
    walls, outputs = {}, {}
    for workers in args.workers:
        wall, out, state = run_job(video, workers, work)
        walls[workers], outputs[workers] = wall, out
        print(f"  {workers} worker process(es): {wall:7.1f} s ({args.minutes * 60 / wall:5.1f}x realtime), "
              f"{state['total']} clips, cut by {len(state['workers'])} process(es)")
    if 1 in walls and len(walls) > 1:
        most = max(walls)
        print(f"speed-up {most} vs 1 worker: {walls[1] / walls[most]:.2f}")
    if not args.no_reference:
        wall, reference = run_make_dataset(video, work)
        print(f"  make_dataset (its own pool): {wall:7.1f} s")
        expected = files_digest(reference)
        for workers, out in outputs.items():
            got = files_digest(out)
            differ = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
            same_spans = (json.loads((out / "dataset_report.json").read_text()).get("clips")
                          == json.loads((reference / "dataset_report.json").read_text()).get("clips"))
            print(f"  {workers} worker(s) vs make_dataset: {len(got)} files, {len(differ)} differ"
                  f"{' (' + ', '.join(differ[:5]) + ')' if differ else ''}; clip list in the report "
                  f"{'identical' if same_spans else 'DIFFERENT'}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
