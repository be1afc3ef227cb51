"""The per-clip layout of a dataset folder, and the "is this clip complete" check.

A clip is complete when its metadata file exists (written last, atomically) and
every file it lists still has the recorded size and sha256.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.hashing import file_sha256


@dataclass(frozen=True)
class FileRole:
    """One file of a clip: its role (the name every reader, download and manifest uses), where it lives in a
    dataset folder, its media type and how a person reads it."""

    name: str
    folder: str
    suffix: str  # after the clip's name
    media_type: str
    label: str


# Every file a clip has, in the order downloads and the viewer list them; metadata last (written last).
ROLES: tuple[FileRole, ...] = (
    FileRole("video", "clips", ".mp4", "video/mp4", "video (mp4)"),
    FileRole("audio", "data", "_audio.wav", "audio/wav", "audio (wav)"),
    FileRole("blendshapes", "data", "_blendshapes.csv", "text/csv", "blendshapes (csv)"),
    FileRole("blendshapes_qc", "data", "_blendshapes_qc.csv", "text/csv", "blendshapes after QC (csv)"),
    FileRole("audio_features", "data", "_audio_features.npz", "application/octet-stream", "audio features (npz)"),
    FileRole("quality_mask", "data", "_quality_mask.npy", "application/octet-stream", "quality mask (npy)"),
    FileRole("face", "data", "_face.npz", "application/octet-stream", "face box, landmarks and pose per frame (npz)"),
    FileRole("metadata", "data", "_metadata.json", "application/json", "metadata (json)"),
)
ROLE_NAMES = tuple(role.name for role in ROLES)
BY_ROLE = {role.name: role for role in ROLES}
PAYLOAD_ROLES = tuple(name for name in ROLE_NAMES if name != "metadata")  # what a clip's metadata lists


@dataclass(frozen=True)
class ClipFiles:
    """The paths of one clip's files in a dataset folder, one attribute per role (named as in ROLES)."""

    root: Path
    name: str  # clip_0000

    def path(self, role: str) -> Path:
        entry = BY_ROLE[role]
        return self.root / entry.folder / f"{self.name}{entry.suffix}"

    @property
    def video(self) -> Path:
        return self.path("video")

    @property
    def audio(self) -> Path:
        return self.path("audio")

    @property
    def blendshapes(self) -> Path:
        return self.path("blendshapes")

    @property
    def blendshapes_qc(self) -> Path:
        return self.path("blendshapes_qc")

    @property
    def audio_features(self) -> Path:
        return self.path("audio_features")

    @property
    def quality_mask(self) -> Path:
        return self.path("quality_mask")

    @property
    def face(self) -> Path:
        return self.path("face")

    @property
    def metadata(self) -> Path:
        return self.path("metadata")

    def payload(self) -> dict[str, Path]:
        """Every file of the clip except the metadata, by role."""
        return {role: self.path(role) for role in PAYLOAD_ROLES}

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def clip_name(index: int) -> str:
    return f"clip_{index:04d}"


def describe_files(files: ClipFiles) -> dict[str, dict]:
    """What the metadata lists: every payload file the clip has (a clip of an older version may lack a role)."""
    return {role: {"path": files.relative(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for role, p in files.payload().items() if p.exists()}


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


def inside(folder: Path, relative: str) -> bool:
    """Whether ``relative`` names a file inside ``folder``: no absolute path, no way out through "..",
    and no symbolic link on the way (a link can be re-pointed after the check; make_dataset writes none)."""
    if not isinstance(relative, str) or not relative or Path(relative).is_absolute():
        return False
    try:
        (folder / relative).resolve().relative_to(folder.resolve())
        step = folder
        for part in Path(relative).parts:
            step = step / part
            if step.is_symlink():
                return False
    except (ValueError, OSError):
        return False
    return True
