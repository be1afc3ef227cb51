"""Every option that shapes a dataset build, declared once: name, type, range or choices, default, help.

Generated from this table: ``make_dataset``'s arguments (``add_arguments``), the upload form and the
reprocess form (``catalog.upload_form``), the tus metadata parser and the job parameters stored on a
video (``parse``), the pipeline's parameters (``dataset_params``) and the README's options table
(``markdown_table``; a test compares the two).  To add an option: add it here and read it in
``dataset_params``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.media.cut import EncodeSettings
from pipeline.dataset.build import DatasetParams
from pipeline.quality.qc import QcParams
from pipeline.audio.segment import SegmentParams
from pipeline.face.smoothing import SMOOTH_ALIASES, SMOOTHERS

BOTH, CLI, UPLOAD = "both", "cli", "upload"  # where an option is offered


@dataclass(frozen=True)
class Option:
    name: str
    kind: type  # float, int, str or bool
    default: object
    help: str
    unit: str = ""  # "s", "ms", "dB"
    low: float | None = None  # numeric range, inclusive
    high: float | None = None
    choices: tuple = ()  # the values allowed (str and int options)
    labels: Mapping = field(default_factory=dict)  # value -> the words the form shows for it
    aliases: Mapping = field(default_factory=dict)  # other spellings the command line accepts
    where: str = BOTH
    label: str = ""  # the form's label (default: the name, with the unit)
    below_low: str = ""  # said when a value is below the range

    def parse(self, value: object) -> object:
        """``value`` (text from a form, tus metadata or the command line, or a stored value) as this option's
        type, checked; ValueError saying what is allowed."""
        if self.kind is bool:
            text = str(value).strip().lower()
            if text in ("yes", "true", "1", "on"):
                return True
            if text in ("no", "false", "0", "off"):
                return False
            raise ValueError(f"{self.name} must be yes or no")
        if self.kind is str:
            text = str(value).strip().lower()
            text = self.aliases.get(text, text)
            if self.choices and text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}")
            return text
        try:
            number = self.kind(value) if not isinstance(value, str) else self.kind(value.strip())
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.name} must be {'an integer' if self.kind is int else 'a number'}") from None
        if not math.isfinite(number):
            raise ValueError(f"{self.name} must be a finite number")
        if self.choices and number not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}")
        if self.low is not None and not self.low <= number <= self.high:
            unit = f" {self.unit}" if self.unit else ""
            raise ValueError(f"{self.name} must be between {self.low:g} and {self.high:g}{unit}"
                             + (f" ({self.below_low})" if self.below_low and number < self.low else ""))
        return number

    def stored(self, value: object) -> object:
        """How a video row keeps the value (booleans as yes/no, as the upload form and tus send them)."""
        return ("yes" if value else "no") if self.kind is bool else value

    @property
    def allowed(self) -> str:
        if self.kind is bool:
            return "yes / no"
        if self.choices:
            return " / ".join(map(str, self.choices))
        if self.low is not None:
            return f"{self.low:g} to {self.high:g}"
        return "any"


OPTIONS: tuple[Option, ...] = (
    Option("min_speech", float, 0.4, "speech shorter than this is treated as noise (a cough, a click)", "s", 0.0, 10.0),
    Option("max_gap", float, 0.6, "pauses shorter than this stay inside one clip", "s", 0.0, 10.0),
    Option("min_clip", float, 20.0, "speech runs shorter than this make no clip (listed in the report)", "s", 1.0, 600.0,
           below_low="shorter clips are too short to train on, and a long recording would become thousands of clips"),
    Option("max_clip", float, 180.0, "longer speech is split into equal clips no longer than this "
           "(bounds one clip's work and memory)", "s", 2.0, 600.0),
    Option("vad_mode", int, 2, "voice detector strictness: 0 keeps the most audio as speech, 3 the least (noisy rooms)",
           choices=(0, 1, 2, 3)),
    Option("frame_ms", int, 30, "voice detector step in ms: 10 finds onsets more precisely, 30 is steadier",
           choices=(10, 20, 30)),
    Option("energy_floor_db", float, 45.0, "frames this many dB below the recording's speech level never count as "
           "speech", "dB", 0.0, 120.0, where=CLI),
    Option("smooth", str, "none", "filter on the blendshape curves: none keeps MediaPipe's values; oneeuro calms "
           "jitter while keeping fast moves", choices=tuple(SMOOTHERS), aliases=SMOOTH_ALIASES),
    Option("f0", str, "dio", "pitch tracker (WORLD): dio is fast; harvest is more robust and about 4x realtime",
           choices=("dio", "harvest"), labels={"harvest": "harvest (slow)"}),
    Option("max_interp_gap", float, 0.25, "face-less gaps up to this long are interpolated; longer ones are masked",
           "s", 0.0, 5.0),
    Option("pad_short_audio", bool, False, "what to do when the audio track stops before the video: keep the "
           "recording (the missing audio is silence, listed in the report, and no clip is cut from it)",
           labels={False: "refuse the recording", True: "keep it: missing audio is silence, no clip from it"},
           label="audio ends early"),
    Option("correct_av_offset", bool, False, "where the recording's lip-sync offset (its clips pooled) is reliable "
           "and not zero, write the clips with the audio shifted by it: the wav, the clip file's audio and the "
           "features (recorded in each clip's metadata)",
           labels={False: "keep the audio as recorded", True: "shift the audio to the mouth"},
           label="correct A/V offset"),
    Option("clip_video", str, "mp4", "each clip's own video file: mp4 (H.264 and the source audio, for viewing and "
           "talking-face training) or none, for audio-to-face datasets that never need it (no encode: faster; the "
           "viewer plays the recording at the clip's span, downloads say the video was not kept)",
           choices=("mp4", "none"), labels={"none": "none (faster; the viewer plays the recording)"},
           label="clip video"),
    Option("muted_shots", float, 0.0, "add muted shots for Audio2Face-style training: the recording's own stretches "
           "without speech (3-30 s, 0.5 s clear of speech), as clips of their own marked muted, up to this share of "
           "the speech clips' seconds (0: none)", "", 0.0, 0.5, label="muted shots (share)"),
    Option("quality_threshold", float, 60.0, "the report lists clips scoring below this", "", 0.0, 100.0, where=CLI),
    Option("video_preset", str, "ultrafast", "x264 preset of the clip files (slower presets: smaller files)",
           choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium"), where=CLI),
    Option("video_crf", int, 18, "x264 quality of the clip files (lower: better, larger)", "", 0, 51, where=CLI),
    Option("duplicate", str, "ask", "an upload identical to a video of the dataset: ask the user, keep both, or skip it",
           choices=("ask", "keep", "skip"), where=UPLOAD),
)
BY_NAME = {option.name: option for option in OPTIONS}
BUILD = [o for o in OPTIONS if o.where in (BOTH, CLI)]  # what make_dataset takes
UPLOADED = [o for o in OPTIONS if o.where in (BOTH, UPLOAD)]  # what an upload's tus metadata may carry
STORED = [o for o in OPTIONS if o.where == BOTH]  # what a video keeps and the upload and reprocess forms show
DEFAULTS = {o.name: o.stored(o.default) for o in OPTIONS}


def parse(values: Mapping[str, object], options=STORED) -> dict:
    """The given (non-empty) values of ``options``, parsed and checked together; ValueError on the first problem."""
    parsed = {}
    for option in options:
        value = values.get(option.name, "")
        if value is None or value == "":
            continue
        parsed[option.name] = option.stored(option.parse(value))
    check_together({**{o.name: o.default for o in options}, **parsed})
    return parsed


def check_together(values: Mapping[str, object]) -> None:
    if "min_clip" in values and "max_clip" in values and float(values["min_clip"]) >= float(values["max_clip"]):
        raise ValueError("need min_clip < max_clip: min_clip must be smaller than max_clip")


def dataset_params(values: Mapping[str, object] | None = None, model: str | None = None) -> DatasetParams:
    """The pipeline's parameters from option values (stored on a video, or given to make_dataset); missing
    ones take their defaults."""
    o = {option.name: option.default for option in OPTIONS}
    o.update({k: BY_NAME[k].parse(v) for k, v in (values or {}).items() if k in BY_NAME})
    segment = SegmentParams(vad_mode=o["vad_mode"], frame_ms=o["frame_ms"], min_speech=o["min_speech"],
                            max_gap=o["max_gap"], min_clip=o["min_clip"], max_clip=o["max_clip"],
                            energy_floor_db=o["energy_floor_db"])
    return DatasetParams(segment=segment, smooth=o["smooth"], f0_method=o["f0"],
                         quality_threshold=o["quality_threshold"], qc=QcParams(max_gap_s=o["max_interp_gap"]),
                         model=model, encode=EncodeSettings(preset=o["video_preset"], crf=o["video_crf"]),
                         pad_short_audio=o["pad_short_audio"], correct_av_offset=o["correct_av_offset"],
                         clip_video=o["clip_video"], muted_shots=o["muted_shots"])


def add_arguments(parser) -> None:
    """make_dataset's build options, as argparse arguments (checked by ``parse`` in the command)."""
    for option in BUILD:
        if option.kind is bool:
            parser.add_argument(f"--{option.name}", action="store_true", help=option.help)
            continue
        choices = [*option.choices, *option.aliases] if option.choices else None
        unit = f" ({option.unit})" if option.unit else ""
        parser.add_argument(f"--{option.name}", default=option.default, choices=choices,
                            type=str if option.kind is str else option.kind,
                            help=f"{option.help}{unit}; {option.allowed}, default {option.default}")


MARKDOWN_HEADER = "| option | default | allowed | upload form | meaning |\n|---|---|---|---|---|\n"


def markdown_table() -> str:
    """The README's options table."""
    rows = []
    for o in OPTIONS:
        default = DEFAULTS[o.name]
        unit = f" {o.unit}" if o.unit and o.low is not None else ""
        shown = {BOTH: "yes", CLI: "no (make_dataset only)", UPLOAD: "tus metadata only"}[o.where]
        rows.append(f"| `{o.name}` | {default}{unit} | {o.allowed}{unit} | {shown} | {o.help} |")
    return MARKDOWN_HEADER + "\n".join(rows) + "\n"
