"""Locate and verify the MediaPipe Face Landmarker model bundle.

Resolution order: an explicit path (``--model``), then the
``FACE_LANDMARKER_MODEL`` environment variable, then the copy the project
carries in ``models/face_landmarker.task``.  The project's copy must match the
official sha256; another file is accepted when it is a valid task bundle, and is
pinned to a hash when ``FACE_LANDMARKER_SHA256`` is set.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.hashing import file_sha256

MODEL_ENV = "FACE_LANDMARKER_MODEL"
MODEL_SHA256_ENV = "FACE_LANDMARKER_SHA256"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "face_landmarker.task"
OFFICIAL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
REQUIRED_MEMBERS = ("face_detector.tflite", "face_landmarks_detector.tflite", "face_blendshapes.tflite")
RESTORE_HINT = (
    "restore the official model with `git checkout models/face_landmarker.task` "
    "or point --model / FACE_LANDMARKER_MODEL at a valid face_landmarker.task"
)


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    sha256: str
    official: bool


def resolve_model_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the model path chosen by argument, environment or default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    return DEFAULT_MODEL_PATH


def verify_model(explicit: str | os.PathLike[str] | None = None) -> ModelInfo:
    """Resolve the model and check it before MediaPipe ever sees it."""
    path = resolve_model_path(explicit)
    if not path.exists():
        raise ModelError(path, f"model file not found; {RESTORE_HINT}")
    if not path.is_file():
        raise ModelError(path, f"model path is not a file; {RESTORE_HINT}")
    sha = file_sha256(path)
    is_default = path.resolve() == DEFAULT_MODEL_PATH.resolve()
    pinned = os.environ.get(MODEL_SHA256_ENV, "").strip().lower()
    expected = OFFICIAL_SHA256 if is_default else pinned
    if expected and sha != expected:
        raise ModelError(path, f"model sha256 is {sha}, expected {expected} (corrupt or wrong file); {RESTORE_HINT}")
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
    except (zipfile.BadZipFile, OSError):
        raise ModelError(path, f"not a MediaPipe task bundle (not a zip archive); {RESTORE_HINT}") from None
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ModelError(path, f"task bundle lacks {', '.join(missing)}: not a Face Landmarker model; {RESTORE_HINT}")
    return ModelInfo(path=path, sha256=sha, official=sha == OFFICIAL_SHA256)
