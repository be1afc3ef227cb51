"""Shared fixtures: the real media folder, a throwaway DATA_DIR, cached extractions."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _find_media() -> Path:
    """SHARED_MEDIA, else ../shared/media beside the checkout, else the workplace's /work/shared/media."""
    candidates = [os.environ.get("SHARED_MEDIA"), REPO.parent / "shared" / "media", "/work/shared/media"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared" / "media"


MEDIA = _find_media()


def media_path(name: str) -> Path:
    path = MEDIA / name
    if not MEDIA.is_dir():
        pytest.skip(f"test media folder {MEDIA} is absent (set SHARED_MEDIA)")
    assert path.exists(), f"{path} is missing from the shared media folder"
    return path


@pytest.fixture(scope="session")
def media():
    return media_path


def read_table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def extracted(tmp_path_factory):
    """extract_blendshapes(name) as parsed CSV rows, computed once per session and smoothing."""
    from pipeline.extract import extract_blendshapes

    cache: dict[tuple[str, str], tuple[list[dict[str, str]], object]] = {}
    folder = tmp_path_factory.mktemp("extracted")

    def get(name: str, smooth: str = "none"):
        key = (name, smooth)
        if key not in cache:
            out = folder / f"{name}.{smooth}.csv"
            summary = extract_blendshapes(media_path(name), out, fmt="csv", smooth=smooth)
            cache[key] = (read_table(out), summary)
        return cache[key]

    return get


def _three_clip_params():
    from pipeline.dataset import DatasetParams
    from pipeline.segment import SegmentParams

    return DatasetParams(segment=SegmentParams(max_gap=1.5, min_clip=2))


THREE_CLIPS = _three_clip_params()


@pytest.fixture(scope="session")
def talk3_dataset(media, tmp_path_factory):
    """make_dataset of talk3.mp4 with --max_gap 1.5 --min_clip 2: three clips, built once per session."""
    from pipeline.dataset import build_dataset

    root = tmp_path_factory.mktemp("talk3_dataset")
    return build_dataset(media("talk3.mp4"), root, THREE_CLIPS, workers=2)
