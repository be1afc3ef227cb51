"""The per-clip layout of a dataset folder, and the "is this clip complete" check.

A clip is complete when its metadata file exists (written last, atomically) and
every file it lists still has the recorded size and sha256.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .hashing import file_sha256


@dataclass(frozen=True)
class ClipFiles:
    root: Path
    name: str  # clip_0000

    @property
    def video(self) -> Path:
        return self.root / "clips" / f"{self.name}.mp4"

    @property
    def blendshapes(self) -> Path:
        return self.root / "data" / f"{self.name}_blendshapes.csv"

    @property
    def blendshapes_clean(self) -> Path:
        return self.root / "data" / f"{self.name}_blendshapes_qc.csv"

    @property
    def wav(self) -> Path:
        return self.root / "data" / f"{self.name}_audio.wav"

    @property
    def features(self) -> Path:
        return self.root / "data" / f"{self.name}_audio_features.npz"

    @property
    def mask(self) -> Path:
        return self.root / "data" / f"{self.name}_quality_mask.npy"

    @property
    def metadata(self) -> Path:
        return self.root / "data" / f"{self.name}_metadata.json"

    def payload(self) -> dict[str, Path]:
        """Every file of the clip except the metadata, by role."""
        return {"video": self.video, "blendshapes": self.blendshapes, "blendshapes_qc": self.blendshapes_clean,
                "audio": self.wav, "audio_features": self.features, "quality_mask": self.mask}

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def clip_name(index: int) -> str:
    return f"clip_{index:04d}"


def describe_files(files: ClipFiles) -> dict[str, dict]:
    return {role: {"path": files.relative(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for role, p in files.payload().items()}


def load_complete_metadata(files: ClipFiles, params_key: str) -> dict | None:
    """The clip's metadata if the clip is complete for these parameters, else None."""
    try:
        meta = json.loads(files.metadata.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("params_key") != params_key:
        return None
    for entry in meta.get("files", {}).values():
        path = files.root / entry["path"]
        try:
            if path.stat().st_size != entry["bytes"] or file_sha256(path) != entry["sha256"]:
                return None
        except OSError:
            return None
    return meta


def remove_partials(root: Path) -> int:
    """Delete temporary files a killed run left behind (they never carry a final name)."""
    removed = 0
    for folder in (root, root / "clips", root / "data"):
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.name.startswith(".") and entry.name.endswith(".partial") or ".partial." in entry.name:
                    try:
                        os.unlink(entry)
                        removed += 1
                    except OSError:
                        pass
    return removed
