"""python manage.py export_training --folder DATASET --output EXPORT [--format F] [--fps N]: a make_dataset folder as
a training export in one of the trainer layouts (pipeline/training/trainer_layouts.py)."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.training.resample import EXPORT_FPS
from pipeline.training.trainer_layouts import LAYOUTS


class Command(BaseCommand):
    help = ("Write a make_dataset output folder as a training export split by source video: Parquet (one row per "
            "video frame), or the layout a trainer reads (unitalker, npy, musetalk); see the README's trainer layouts.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", required=True, help="a make_dataset output folder (with manifest.jsonl)")
        parser.add_argument("--output", required=True, help="the export folder to create (must not exist)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the train/validation/test split")
        parser.add_argument("--validation", type=float, default=0.1, help="share of source videos for validation")
        parser.add_argument("--test", type=float, default=0.1, help="share of source videos for test")
        parser.add_argument("--holdout", nargs="*", default=[], help="source file names that must be in test")
        parser.add_argument("--format", default="parquet", choices=sorted(LAYOUTS),
                            help="the layout: " + "; ".join(f"{k}: {v[1]}" for k, v in LAYOUTS.items()))
        parser.add_argument("--crop_size", type=int, choices=(256, 512), default=256,
                            help="facecrops: the side of the face-aligned crop in pixels")
        parser.add_argument("--fps", type=int, choices=EXPORT_FPS, default=None,
                            help="resample every clip to this frame rate from its PTS (default: parquet keeps each "
                                 "clip's own frames; unitalker and npy take the trainer rate, 25 or 30, nearest it)")

    def handle(self, *args, **opts) -> None:
        from pipeline.training.trainer_layouts import LayoutOptions, layout_entries
        from pipeline.training.training_export import (
            assign_grouped_splits,
            clips_from_folder,
            folder_shared_footage,
            write_export,
        )

        folder, output = Path(opts["folder"]), Path(opts["output"])
        if not (folder / "manifest.jsonl").is_file():
            raise CommandError(f"{folder}: no manifest.jsonl here: not a make_dataset output folder", returncode=2)
        if output.exists():
            raise CommandError(f"{output}: already exists; choose a new folder", returncode=2)
        if opts["format"] == "musetalk" and opts["fps"]:
            raise CommandError("--fps: musetalk keeps each clip's own video frames; leave --fps out", returncode=2)
        if opts["format"] == "facecrops" and opts["fps"] not in (None, 25):
            raise CommandError("--fps: facecrops are 25 fps (what Wav2Lip and LatentSync train on)", returncode=2)
        for share in ("validation", "test"):
            if not 0 <= opts[share] < 0.5:
                raise CommandError(f"--{share} must be between 0 and 0.5", returncode=2)
        try:
            clips = clips_from_folder(folder)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{folder / 'manifest.jsonl'}: cannot be read ({exc})", returncode=2) from None
        fractions = {"validation": opts["validation"], "test": opts["test"],
                     "train": 1 - opts["validation"] - opts["test"]}
        known = {**{c.source: c.video for c in clips}, **{c.video: c.video for c in clips}}  # file name or folder
        unknown = set(opts["holdout"]) - set(known)
        if unknown:
            raise CommandError(f"--holdout: no clip comes from {', '.join(sorted(unknown))}", returncode=2)
        shared = folder_shared_footage(clips)  # recordings sharing footage go to one split together
        splits = assign_grouped_splits({c.video for c in clips}, [(p["a"], p["b"]) for p in shared], opts["seed"],
                                       fractions, holdout=[known[name] for name in opts["holdout"]])
        options = LayoutOptions(fps=opts["fps"], seed=opts["seed"], fractions=fractions, crop_size=opts["crop_size"],
                                describe={"dataset_folder": str(folder.resolve()), "shared_footage": shared})
        write_export(layout_entries(opts["format"], clips, splits, options), output)
        import json

        info = json.loads((output / "export.json").read_text())
        frames = info["counts"]["frames"]
        clips_n = info["counts"]["clips"]
        clips_n = sum(clips_n.values()) if isinstance(clips_n, dict) else clips_n
        self.stdout.write(f"{output}: {opts['format']}, {clips_n} clips, "
                          + ", ".join(f"{frames[s]} {s} frames" for s in ("train", "validation", "test")))
        for problem in info.get("empty_splits", []):
            self.stderr.write(f"note: {problem}")
        missing = info.get("missing_clips") or info.get("left_out") or []
        if missing:
            raise CommandError(f"{len(missing)} clip(s) could not be exported; each is listed with the reason under "
                               f"{'missing_clips' if 'missing_clips' in info else 'left_out'} in "
                               f"{output / 'export.json'}", returncode=3)
