"""python manage.py apply_baseline --model model.npz --audio speech.wav --output face.csv: drive a face from audio."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Predict per-frame blendshapes for an audio (or video) file with a trained baseline; CSV in the extract layout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="a model saved by train_baseline or the dashboard")
        parser.add_argument("--audio", required=True, help="an audio or video file")
        parser.add_argument("--output", required=True, help="output CSV (written atomically)")
        parser.add_argument("--fps", type=float, default=30.0, help="frames per second of the output (default 30)")

    def handle(self, *args, **opts) -> None:
        from pipeline.training import baseline
        from pipeline.errors import PipelineError

        if not 1 <= opts["fps"] <= 240:
            raise CommandError("--fps must be between 1 and 240", returncode=2)
        try:
            model = baseline.load(opts["model"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{opts['model']}: not a baseline model ({exc})", returncode=2) from None
        try:
            times, x = baseline.audio_features_for(model, opts["audio"], opts["fps"])
        except PipelineError as exc:
            raise CommandError(str(exc), returncode=2) from None
        baseline.write_extract_csv(opts["output"], times, model.predict(x), model.config.targets)
        self.stdout.write(f"{opts['output']}: {times.size} frames at {opts['fps']:g} fps")
