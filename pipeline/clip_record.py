"""The record of one clip: what its metadata.json holds and what its manifest.jsonl line repeats.

Written once by the clip worker (pipeline.clip_job), read back by everything that reads a clip folder.
``to_dict`` is the metadata file exactly (its keys in this order); ``manifest_line`` the catalog's import
line.  A new per-clip value is a new field here (with a default, so older folders still read).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


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
    quality: dict  # the QC registry's metrics (pipeline.quality)
    quality_score: float
    quality_reasons: list[str]
    lip_sync: dict
    face_speaking: bool | None
    speech_ratio: float
    audio: dict
    blendshape_names: list[str]
    head_pose_names: list[str]
    smoothing: str
    params: dict
    params_key: str
    timings: dict
    files: dict = field(default_factory=dict)  # role -> {"path", "bytes", "sha256"} (pipeline.clip_files)

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
            "quality": self.quality,
            "quality_reasons": self.quality_reasons,
            "metadata": f"data/{self.clip}_metadata.json",
            "files": self.files,
        }
