"""Model resolution and verification."""
from __future__ import annotations

import shutil
import zipfile

import pytest

from pipeline.errors import ModelError
from pipeline.face.model import (
    DEFAULT_MODEL_PATH,
    MODEL_ENV,
    OFFICIAL_SHA256,
    resolve_model_path,
    verify_model,
)


def test_default_model_is_the_official_one():
    info = verify_model()
    assert info.path == DEFAULT_MODEL_PATH
    assert info.sha256 == OFFICIAL_SHA256
    assert info.official


def test_environment_then_argument_override(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "env.task"))
    assert resolve_model_path() == tmp_path / "env.task"
    assert resolve_model_path(tmp_path / "arg.task") == tmp_path / "arg.task"


def test_custom_model_that_is_not_a_bundle(tmp_path):
    bad = tmp_path / "model.task"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ModelError, match="not a MediaPipe task bundle"):
        verify_model(bad)


def test_custom_bundle_without_blendshape_model(tmp_path):
    bad = tmp_path / "model.task"
    with zipfile.ZipFile(bad, "w") as bundle:
        bundle.writestr("face_detector.tflite", b"x")
    with pytest.raises(ModelError, match="face_blendshapes.tflite"):
        verify_model(bad)


def test_pinned_hash_mismatch(tmp_path, monkeypatch):
    copy = tmp_path / "copy.task"
    shutil.copy(DEFAULT_MODEL_PATH, copy)
    monkeypatch.setenv("FACE_LANDMARKER_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="sha256"):
        verify_model(copy)


def test_valid_copy_is_accepted(tmp_path):
    copy = tmp_path / "copy.task"
    shutil.copy(DEFAULT_MODEL_PATH, copy)
    info = verify_model(copy)
    assert info.official and info.path == copy
