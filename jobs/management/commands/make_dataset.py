"""python manage.py make_dataset input.mp4 -o dataset: speech clips with frame-aligned data."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.dataset import options
from pipeline.errors import PipelineError

EXIT_BAD_INPUT = 2


class TqdmProgress:
    """Progress bars per stage on a terminal; silent when not a TTY or --no-progress."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, stage: str, total: float | None, unit: str):
        from tqdm import tqdm

        return tqdm(total=total, desc=stage, unit=unit, disable=None if self.enabled else True, leave=False,
                    dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} {unit} [{elapsed}<{remaining}]")


class Command(BaseCommand):
    help = "Split a long talking-face recording into speech clips with blendshapes, audio features and QC."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", nargs="+", help="the recording (any container PyAV reads; needs video and "
                            "audio), or several recordings and folders of them: one dataset folder for all, with "
                            "recordings/<name>/ per recording and one manifest.jsonl")
        parser.add_argument("-o", "--output", required=True, help="dataset folder (created; rerun to resume)")
        options.add_arguments(parser)  # every build option, from pipeline.dataset.options
        parser.add_argument("--workers", type=int, default=None, help="parallel clip workers (default: all cores)")
        parser.add_argument("--model", default=None, help="face_landmarker.task to use")
        parser.add_argument("--lip_sync_model", default=None, help="audio-to-mouth model of the lip-sync check "
                            "(default: models/lip_sync_audio_to_mouth.json; a dataset's refit one is in "
                            "DATA_DIR/lip_sync_models)")
        parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")

    def handle(self, *args, **opts) -> None:
        if opts["workers"] is not None and opts["workers"] < 1:
            raise CommandError("--workers must be at least 1", returncode=EXIT_BAD_INPUT)
        try:
            values = options.parse({o.name: opts[o.name] for o in options.BUILD}, options.BUILD)
            params = options.dataset_params(values, model=opts["model"])
            params.lip_model = opts["lip_sync_model"]
            params.segment.validate()
        except ValueError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        from pipeline.face.model import verify_model

        try:  # --model, FACE_LANDMARKER_MODEL or the project's copy: checked once here, not failed in every clip
            verify_model(opts["model"])
        except PipelineError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        if opts["lip_sync_model"] is not None:
            from pipeline.quality.lip_sync_model import load_model

            try:
                load_model(opts["lip_sync_model"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"{opts['lip_sync_model']}: not a lip-sync model ({exc})",
                                   returncode=EXIT_BAD_INPUT) from None
        from pathlib import Path

        inputs = opts["input"]
        if len(inputs) > 1 or Path(inputs[0]).is_dir():
            return self.handle_many(inputs, opts, params)
        try:
            from pipeline.dataset.build import build_dataset

            result = build_dataset(inputs[0], opts["output"], params, workers=opts["workers"],
                                   progress=TqdmProgress(not opts["no_progress"]))
        except PipelineError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        totals = result.report["totals"]
        self.stdout.write(
            f"{result.root}: {totals['clips']} clips ({totals['clip_seconds']:.1f} s, {result.skipped} already complete), "
            f"{totals['dropped_segments']} segments dropped, {totals['failed_clips']} clips failed; "
            f"mean score {result.report['score']['mean']}; see {result.root / 'dataset_report.html'}"
        )
        for tip in result.report["recommendations"]:
            self.stdout.write(f"  - {tip}")

    def handle_many(self, inputs: list[str], opts: dict, params) -> None:
        from pipeline.dataset.multi_build import build_many

        try:
            result = build_many(inputs, opts["output"], params, workers=opts["workers"],
                                progress=TqdmProgress(not opts["no_progress"]))
        except PipelineError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        for rec in result.recordings:
            if rec.get("error"):
                self.stdout.write(f"{rec['recording']}: NOT DONE: {rec['error']}")
            else:
                self.stdout.write(f"{rec['recording']}: {rec['clips']} clips ({rec['clip_seconds']:.1f} s, "
                                  f"{rec['already_complete']} already complete), {rec['failed_clips']} failed, "
                                  f"mean score {rec['mean_score']}")
        for other in result.not_recordings:
            self.stdout.write(f"skipped {other['path']}: {other['problem']}")
        done = [r for r in result.recordings if not r.get("error")]
        self.stdout.write(f"{result.root}: {len(done)} recording(s), {sum(r['clips'] for r in done)} clips; "
                          f"see {result.root / 'dataset_report.html'} and recordings.json")
        if result.failed_recordings:
            raise CommandError(f"{len(result.failed_recordings)} recording(s) could not be made into clips "
                               "(listed above and in recordings.json); the others are done", returncode=3)
