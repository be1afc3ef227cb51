"""Re-scoring a dataset with new weights at 100,000 clips (the issue's "in seconds"), on a throwaway database.

    .venv/bin/python bench/rescore_bench.py [--clips 100000]

Seeds the catalog bench's dataset (every clip with a full set of stored QC values), then times
catalog.rescore.rescore with the seed preset and back with the default weights, in one Django process.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.catalog_bench import seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-rescore-"))
    try:
        dataset = seed(data_dir, args.clips)
        code = f"""
import os, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataset_site.settings")
django.setup()
from catalog.models import Dataset
from catalog.rescore import rescore
from pipeline.quality.scoring import PRESETS
target = Dataset.objects.get(pk={dataset})
timings = []
for weights in (PRESETS["seed"], None, PRESETS["seed"]):
    t = time.perf_counter(); n = rescore(target, weights); timings.append(time.perf_counter() - t)
print(n, *[round(x, 2) for x in timings])
"""
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "DATA_DIR": str(data_dir)},
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        count, *times = out.split()
        print(f"machine: {platform.machine()}, Python {platform.python_version()}; SQLite")
        print(f"re-scored {count} clips: " + ", ".join(f"{t} s" for t in times) + " (seed preset, default, seed)")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
