"""python manage.py export_training --folder DATASET --output EXPORT: a make_dataset folder as a Parquet training export."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Write a make_dataset output folder as a frame-aligned Parquet export (one row per video frame, "
            "split by source video); see pipeline/training/training_export.py for the columns.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", required=True, help="a make_dataset output folder (with manifest.jsonl)")
        parser.add_argument("--output", required=True, help="the export folder to create (must not exist)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the train/validation/test split")
        parser.add_argument("--validation", type=float, default=0.1, help="share of source videos for validation")
        parser.add_argument("--test", type=float, default=0.1, help="share of source videos for test")
        parser.add_argument("--holdout", nargs="*", default=[], help="source file names that must be in test")

    def handle(self, *args, **opts) -> None:
        from pipeline.training.training_export import (
            assign_splits,
            clips_from_folder,
            export_entries,
            write_export,
        )

        folder, output = Path(opts["folder"]), Path(opts["output"])
        if not (folder / "manifest.jsonl").is_file():
            raise CommandError(f"{folder}: no manifest.jsonl here: not a make_dataset output folder", returncode=2)
        if output.exists():
            raise CommandError(f"{output}: already exists; choose a new folder", returncode=2)
        for share in ("validation", "test"):
            if not 0 <= opts[share] < 0.5:
                raise CommandError(f"--{share} must be between 0 and 0.5", returncode=2)
        try:
            clips = clips_from_folder(folder)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{folder / 'manifest.jsonl'}: cannot be read ({exc})", returncode=2) from None
        fractions = {"validation": opts["validation"], "test": opts["test"],
                     "train": 1 - opts["validation"] - opts["test"]}
        unknown = set(opts["holdout"]) - {c.video for c in clips}
        if unknown:
            raise CommandError(f"--holdout: no clip comes from {', '.join(sorted(unknown))}", returncode=2)
        splits = assign_splits({c.video for c in clips}, opts["seed"], fractions, holdout=opts["holdout"])
        write_export(export_entries(clips, splits, seed=opts["seed"], fractions=fractions,
                                    describe={"dataset_folder": str(folder.resolve())}), output)
        import json

        info = json.loads((output / "export.json").read_text())
        frames = info["counts"]["frames"]
        self.stdout.write(f"{output}: {info['counts']['clips']} clips, "
                          + ", ".join(f"{frames[s]} {s} frames" for s in ("train", "validation", "test")))
        if info["missing_clips"]:
            raise CommandError(f"{len(info['missing_clips'])} clip(s) could not be read and are listed under "
                               f"missing_clips in {output / 'export.json'}", returncode=3)
