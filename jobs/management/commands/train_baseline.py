"""python manage.py train_baseline --export EXPORT --output model.npz: the ridge baseline and its held-out scores."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Train the baseline audio-to-blendshape model (ridge regression over a window of audio features) on "
            "an export's training videos and print its correlation and error on the held-out (test) videos.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--export", required=True, help="a training export folder or its zip")
        parser.add_argument("--output", required=True, help="where to save the model (.npz)")
        parser.add_argument("--context", type=int, default=5, help="audio frames either side (default 5)")
        parser.add_argument("--alpha", type=float, default=3.0, help="ridge penalty (default 3)")
        parser.add_argument("--features", nargs="+", default=["mel"], help="audio features (default: mel)")

    def handle(self, *args, **opts) -> None:
        from pipeline.training import baseline
        from pipeline.training.training_data import TrainingExport

        try:
            export = TrainingExport(opts["export"])
            config = baseline.BaselineConfig(features=tuple(opts["features"]), context=opts["context"],
                                             alpha=opts["alpha"])
            model, metrics = baseline.train_on_export(export, config)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{opts['export']}: {exc}", returncode=2) from None
        baseline.save(model, opts["output"])
        self.stdout.write(f"{opts['output']}: trained on {metrics['train_frames']} frames; held-out "
                          f"{metrics['frames']} frames: mean r {metrics['mean_r']}, mean MAE {metrics['mean_mae']}")
        self.stdout.write(json.dumps(metrics["highlight"]))
