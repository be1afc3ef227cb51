"""make_dataset options as stored on a Video row -> pipeline parameters."""
from __future__ import annotations

from pipeline.dataset import DatasetParams
from pipeline.qc import QcParams
from pipeline.segment import SegmentParams

DEFAULTS = {"min_speech": 0.4, "max_gap": 0.6, "min_clip": 20.0, "max_clip": 180.0, "vad_mode": 2, "frame_ms": 30,
            "smooth": "none", "f0": "dio", "max_interp_gap": 0.25, "pad_short_audio": "no"}
# Accepted ranges (seconds) of the numeric options, documented on the upload form and in the README.
# min_clip >= 1 s keeps a one-hour recording under 3,600 clips; max_clip <= 600 s keeps one clip's
# work (one task, one worker's memory) bounded.
RANGES = {"min_speech": (0.0, 10.0), "max_gap": (0.0, 10.0), "min_clip": (1.0, 600.0), "max_clip": (2.0, 600.0),
          "max_interp_gap": (0.0, 5.0)}


def dataset_params(options: dict) -> DatasetParams:
    o = {**DEFAULTS, **(options or {})}
    segment = SegmentParams(vad_mode=int(o["vad_mode"]), frame_ms=int(o["frame_ms"]), min_speech=float(o["min_speech"]),
                            max_gap=float(o["max_gap"]), min_clip=float(o["min_clip"]), max_clip=float(o["max_clip"]))
    return DatasetParams(segment=segment, smooth=o["smooth"], f0_method=o["f0"],
                         qc=QcParams(max_gap_s=float(o["max_interp_gap"])),
                         pad_short_audio=str(o["pad_short_audio"]) == "yes")
