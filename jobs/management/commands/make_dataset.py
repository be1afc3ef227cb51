"""python manage.py make_dataset input.mp4 -o dataset: speech clips with frame-aligned data."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipeline.errors import PipelineError
from pipeline.smoothing import SMOOTH_ALIASES, SMOOTHERS

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
        parser.add_argument("input", help="the recording (any container PyAV reads; needs video and audio)")
        parser.add_argument("-o", "--output", required=True, help="dataset folder (created; rerun to resume)")
        parser.add_argument("--min_speech", type=float, default=0.4, help="drop speech runs shorter than this (s)")
        parser.add_argument("--max_gap", type=float, default=0.6, help="merge across silences shorter than this (s)")
        parser.add_argument("--min_clip", type=float, default=20.0, help="drop clips shorter than this (s), reported")
        parser.add_argument("--max_clip", type=float, default=180.0, help="split clips longer than this (s)")
        parser.add_argument("--vad_mode", type=int, choices=[0, 1, 2, 3], default=2, help="webrtcvad aggressiveness")
        parser.add_argument("--frame_ms", type=int, choices=[10, 20, 30], default=30, help="VAD frame length (ms)")
        parser.add_argument("--energy_floor_db", type=float, default=45.0,
                            help="frames this many dB below the speech level never count as speech")
        parser.add_argument("--smooth", default="none", type=str.lower, choices=[*SMOOTHERS, *SMOOTH_ALIASES],
                            help="smoothing of the blendshape curves (none, ema, oneeuro; yes/no)")
        parser.add_argument("--f0", choices=["dio", "harvest"], default="dio", help="pyworld F0 estimator")
        parser.add_argument("--max_interp_gap", type=float, default=0.25,
                            help="interpolate no-face gaps up to this long (s); longer gaps stay masked")
        parser.add_argument("--quality_threshold", type=float, default=60.0, help="report clips scoring below this")
        parser.add_argument("--video_preset", default="ultrafast",
                            choices=["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"],
                            help="x264 preset of the clip files (slower presets: smaller files)")
        parser.add_argument("--video_crf", type=int, default=18, help="x264 quality of the clip files (lower: better)")
        parser.add_argument("--pad_short_audio", action="store_true",
                            help="keep a recording whose audio ends before its video: the missing audio is "
                                 "silence, listed in the report, and no clip is cut from it")
        parser.add_argument("--workers", type=int, default=None, help="parallel clip workers (default: all cores)")
        parser.add_argument("--model", default=None, help="face_landmarker.task to use")
        parser.add_argument("--no-progress", action="store_true", help="do not draw progress bars")

    def handle(self, *args, **opts) -> None:
        from pipeline.cut import EncodeSettings
        from pipeline.dataset import DatasetParams, build_dataset
        from pipeline.qc import QcParams
        from pipeline.segment import SegmentParams

        segment = SegmentParams(vad_mode=opts["vad_mode"], frame_ms=opts["frame_ms"], min_speech=opts["min_speech"],
                                max_gap=opts["max_gap"], min_clip=opts["min_clip"], max_clip=opts["max_clip"],
                                energy_floor_db=opts["energy_floor_db"])
        try:
            segment.validate()
        except ValueError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        if opts["workers"] is not None and opts["workers"] < 1:
            raise CommandError("--workers must be at least 1", returncode=EXIT_BAD_INPUT)
        params = DatasetParams(segment=segment, smooth=opts["smooth"], f0_method=opts["f0"],
                               quality_threshold=opts["quality_threshold"],
                               qc=QcParams(max_gap_s=opts["max_interp_gap"]), model=opts["model"],
                               encode=EncodeSettings(preset=opts["video_preset"], crf=opts["video_crf"]),
                               pad_short_audio=opts["pad_short_audio"])
        if opts["model"]:
            from pipeline.model import verify_model

            try:
                verify_model(opts["model"])
            except PipelineError as exc:
                raise CommandError(str(exc), returncode=EXIT_BAD_INPUT) from None
        try:
            result = build_dataset(opts["input"], opts["output"], params, workers=opts["workers"],
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
