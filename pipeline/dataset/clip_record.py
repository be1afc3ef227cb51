"""The record of one clip: what its metadata.json holds and what its manifest.jsonl line repeats.

Written once by the clip worker (pipeline.dataset.clip_job), read back by everything that reads a clip folder.
``to_dict`` is the metadata file exactly (its keys in this order); ``manifest_line`` the catalog's import
line.  A new per-clip value is a new field here (with a default, so older folders still read).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from pipeline.quality.scoring import reasons


@dataclass
class ClipRecord:
    clip: str  # clip_0000
    index: int
    source: str  # the recording's name as the user knows it
    source_start_s: float  # the clip's span in the source's container time (first frame's PTS .. end)
    source_end_s: float
    speech_span_s: list[float]  # the speech span the clip was cut for
    duration_s: float
    fps: float
    frames: int
    face_frames: int
    missing_frames: int
    missing_ranges: list[list[int]]  # [first, last] frames without a face
    quality: dict  # the QC registry's metrics (pipeline.quality.quality)
    quality_score: float
    quality_reasons: list[str]
    lip_sync: dict
    face_speaking: bool | None
    speech_ratio: float
    audio: dict
    shot: dict | None  # shot boundaries the worker saw (container time), and for a side of a split span its part
    kind: str | None  # "speech" (cut for a speech span) or "muted" (a muted shot); None: written before muted shots
    blendshape_names: list[str]
    head_pose_names: list[str]
    smoothing: str
    params: dict
    params_key: str
    timings: dict
    files: dict = field(default_factory=dict)  # role -> {"path", "bytes", "sha256"} (pipeline.dataset.clip_files)

    def to_dict(self) -> dict:
        """The metadata.json object."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ClipRecord":
        """A metadata.json object: keys this version does not know are ignored, and one an older version did
        not write yet reads as None."""
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})

    def manifest_line(self) -> dict:
        """The clip's line in manifest.jsonl: what the catalog imports without opening the metadata file."""
        return {
            "clip": self.clip,
            "source": self.source,
            "source_start_s": self.source_start_s,
            "source_end_s": self.source_end_s,
            "duration_s": self.duration_s,
            "fps": self.fps,
            "frames": self.frames,
            "face_frames": self.face_frames,
            "quality_score": self.quality_score,
            "valid_rate": self.quality["valid_rate"],
            "smoothness": self.quality["smoothness"],
            "range_validity": self.quality["range_validity"],
            "lip_sync": {k: self.lip_sync[k] for k in ("offset_ms", "confidence", "verdict")},
            "face_speaking": self.face_speaking,
            "speech_ratio": self.speech_ratio,
            **({"kind": "muted"} if self.kind == "muted" else {}),
            "quality": self.quality,
            "quality_reasons": self.quality_reasons,
            "metadata": f"data/{self.clip}_metadata.json",
            "files": self.files,
        }


# The clip's values the catalog keeps as columns (catalog.models.Clip, under these names) and every reader shows:
# the one flat vocabulary of a clip (downloads' CSV, frozen selections, training exports, the report).
SUMMARY_FIELDS = ("source_start_s", "source_end_s", "duration_s", "fps", "frames", "face_frames", "face_rate",
                  "quality_score", "valid_rate", "smoothness", "range_validity", "lip_sync_offset_ms",
                  "lip_sync_offset_abs_ms", "lip_sync_confidence", "lip_sync_verdict", "face_speaking",
                  "speech_ratio", "quality", "quality_reasons", "muted")


def upgrade_line(line: dict) -> dict:
    """A manifest line of any earlier version in this version's shape (the one translation of older folders).

    - before the lip-sync check (up to session 3): ``av_lag_ms``, ``av_correlation`` and ``av_sync_weak`` at the
      top level; they become ``lip_sync = {offset_ms, confidence, verdict: ""}`` (no verdict was computed);
    - before the QC registry: no ``quality`` dict; it is made from ``valid_rate``, ``smoothness`` and
      ``range_validity``;
    - before reasons were written: no ``quality_reasons``; they are worded again from ``quality``.
    A line of this version comes back equal to itself.
    """
    line = dict(line)
    if line.get("lip_sync") is None:
        line["lip_sync"] = {"offset_ms": line.pop("av_lag_ms", None), "confidence": line.pop("av_correlation", None),
                            "verdict": ""}
        line.pop("av_sync_weak", None)
    if not line.get("quality"):
        line["quality"] = {name: line[name] for name in ("valid_rate", "smoothness", "range_validity")}
    if not line.get("quality_reasons"):
        line["quality_reasons"] = reasons(line["quality"])
    return line


def summary(line: dict) -> dict:
    """The SUMMARY_FIELDS of one manifest line (this version's or an older one's): what the catalog stores."""
    line = upgrade_line(line)
    sync = line["lip_sync"]
    offset = sync.get("offset_ms")
    return {
        **{name: line[name] for name in ("source_start_s", "source_end_s", "duration_s", "fps", "frames",
                                          "face_frames", "quality_score", "valid_rate", "smoothness",
                                          "range_validity", "speech_ratio", "quality", "quality_reasons")},
        "face_rate": line["face_frames"] / max(line["frames"], 1),
        "lip_sync_offset_ms": offset, "lip_sync_offset_abs_ms": abs(offset) if offset is not None else None,
        "lip_sync_confidence": sync.get("confidence"), "lip_sync_verdict": sync.get("verdict") or "",
        "face_speaking": line.get("face_speaking"),
        "muted": line.get("kind") == "muted",
    }
