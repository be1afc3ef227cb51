"""python manage.py extract --video in.mp4 --output out.csv: per-frame blendshapes of one video."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.errors import PipelineError
from pipeline.media.frame_writers import WRITERS
from pipeline.face.smoothing import SMOOTH_ALIASES, SMOOTHERS

EXIT_BAD_INPUT = 2
EXIT_PARTIAL = 3  # the output was written, but the video stopped decoding part-way


class Command(BaseCommand):
    help = "Extract the 52 MediaPipe/ARKit blendshapes (and head pose) for every frame of a video."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--video", required=True, help="input video file")
        parser.add_argument("--output", required=True, help="output file (written atomically)")
        parser.add_argument("--format", choices=sorted(WRITERS), default="csv",
                            help="csv (default), json, or arkit (Live Link Face CSV layout)")
        parser.add_argument("--smooth", default="none", type=str.lower,
                            choices=[*SMOOTHERS, *SMOOTH_ALIASES],
                            help="none (default), ema, oneeuro; yes/no are accepted as ema/none")
        parser.add_argument("--model", default=None,
                            help="face_landmarker.task to use (default: $FACE_LANDMARKER_MODEL or models/)")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **opts) -> None:
        from tqdm import tqdm

        bar = tqdm(unit="frame", dynamic_ncols=True, disable=True if opts["no_progress"] else None,
                   desc="blendshapes", leave=False)

        def on_probe(info) -> None:
            bar.total = info.header_frames or None
            bar.refresh()

        from pipeline.face.extract import extract_blendshapes

        try:
            summary = extract_blendshapes(opts["video"], opts["output"], fmt=opts["format"], smooth=opts["smooth"],
                                          model=opts["model"], progress=bar.update, on_probe=on_probe)
        except PipelineError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        finally:
            bar.close()
        if summary.problem:
            where = f"{summary.last_time_s:.2f} s" if summary.last_time_s is not None else "the start"
            raise CommandError(
                f"{opts['video']}: decoding stopped after frame {summary.frames - 1} ({where}): {summary.problem.message}; "
                f"the file is truncated or damaged; wrote the {summary.frames} frames that decoded to {opts['output']}",
                returncode=EXIT_PARTIAL,
            )
        rate = summary.frames / summary.seconds if summary.seconds else 0.0
        self.stdout.write(
            f"{opts['output']}: {summary.frames} frames, {summary.face_frames} with a face "
            f"({summary.frames - summary.face_frames} without), {rate:.0f} frames/s"
        )
