"""Benchmark every training export layout: frames/s and peak RSS as the export grows (flat memory).

    .venv/bin/python bench/export_layouts_bench.py [--clips 100000] [--crop-clips 200] [--formats parquet,unitalker,...]

Builds one real clip (retalk_face2.mp4 from the shared media, 125 frames) with make_dataset, then exports it as
``--clips`` clips (every clip reads that clip's files: the layout's own cost, with the files in the page cache),
consuming the entries as the dashboard's zip stream does, one layout per child process so each peak RSS is its
own.  Prints frames/s and the peak RSS after 10%, 50% and 100% of the clips.  ``facecrops`` decodes, warps and
encodes every frame, so it runs over ``--crop-clips`` clips.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.training_bench import media, peak_rss_mib  # noqa: E402


def one_layout(folder: Path, layout: str, clips: int) -> dict:
    from dataclasses import replace

    from pipeline.training.trainer_layouts import LayoutOptions, layout_entries
    from pipeline.training.training_export import assign_splits, clips_from_folder

    [template] = clips_from_folder(folder)
    frames_per_clip = json.loads(template.files.metadata.read_text())["frames"]
    marks = [(max(1, clips // 10), "10%"), (max(1, clips // 2), "50%")]
    seen = {"n": 0}

    def many():
        for i in range(clips):
            seen["n"] = i + 1
            yield replace(template, clip_id=i, video=f"video_{i // 20:05d}")

    splits = assign_splits({f"video_{i // 20:05d}" for i in range(clips)}, seed=0)
    rss = {"start": round(peak_rss_mib())}
    size, t = 0, time.perf_counter()
    for _, data in layout_entries(layout, many(), splits, LayoutOptions()):
        size += len(data)
        while marks and seen["n"] >= marks[0][0]:
            rss[marks.pop(0)[1]] = round(peak_rss_mib())
    seconds = time.perf_counter() - t
    rss["100%"] = round(peak_rss_mib())
    return {"layout": layout, "clips": clips, "frames": clips * frames_per_clip, "seconds": round(seconds, 1),
            "frames_per_s": round(clips * frames_per_clip / seconds), "mb": round(size / 1e6), "rss_mib": rss}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--crop-clips", type=int, default=200)
    parser.add_argument("--formats", default="parquet,unitalker,npy,musetalk,facecrops")
    parser.add_argument("--child", nargs=3, metavar=("FOLDER", "LAYOUT", "CLIPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, layout, clips = args.child
        print(json.dumps(one_layout(Path(folder), layout, int(clips))))
        return
    from pipeline.audio.segment import SegmentParams
    from pipeline.dataset.build import DatasetParams, build_dataset

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="bench-layouts-"))
    result = build_dataset(media("retalk_face2.mp4"), work / "one", DatasetParams(segment=SegmentParams(min_clip=1.0)),
                           workers=1)
    for layout in args.formats.split(","):
        clips = args.crop_clips if layout == "facecrops" else args.clips
        out = subprocess.run([sys.executable, __file__, "--child", str(result.root), layout, str(clips)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['layout']:>9}: {r['clips']} clips, {r['frames']:,} frames in {r['seconds']} s: "
              f"{r['frames_per_s']:,} frames/s, {r['mb']:,} MB; peak RSS MiB {r['rss_mib']}", flush=True)


if __name__ == "__main__":
    main()
