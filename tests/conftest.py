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
    from pipeline.face.extract import extract_blendshapes

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
    from pipeline.dataset.build import DatasetParams
    from pipeline.audio.segment import SegmentParams

    return DatasetParams(segment=SegmentParams(max_gap=1.5, min_clip=2))


THREE_CLIPS = _three_clip_params()


@pytest.fixture(scope="session")
def talk3_dataset(media, tmp_path_factory):
    """make_dataset of talk3.mp4 with --max_gap 1.5 --min_clip 2: three clips, built once per session."""
    from pipeline.dataset.build import build_dataset

    root = tmp_path_factory.mktemp("talk3_dataset")
    return build_dataset(media("talk3.mp4"), root, THREE_CLIPS, workers=2)


CATALOG_PASSWORD = "a-long-test-password"


@pytest.fixture
def lab(db, talk3_dataset):
    """Two teams: lab A owns the imported talk3 dataset ("talks"), with 'ana' a member and 'vic' a viewer;
    'bob' is admin of lab B, which owns an empty dataset ("secret")."""
    return make_lab(talk3_dataset)


@pytest.fixture
def live_lab(transactional_db, talk3_dataset):
    """``lab`` committed to the database, so a live server thread sees it (browser tests)."""
    return make_lab(talk3_dataset)


def make_lab(talk3_dataset) -> dict:
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Role, Team
    from catalog.importer import import_folder
    from catalog.models import Dataset

    users = {name: get_user_model().objects.create_user(name, password=CATALOG_PASSWORD) for name in ("ana", "vic", "bob")}
    team_a, team_b = Team.objects.create(name="Lab A"), Team.objects.create(name="Lab B")
    Membership.objects.create(team=team_a, user=users["ana"], role=Role.MEMBER)
    Membership.objects.create(team=team_a, user=users["vic"], role=Role.VIEWER)
    Membership.objects.create(team=team_b, user=users["bob"], role=Role.ADMIN)
    talks = Dataset.objects.create(team=team_a, name="talks")
    import_folder(talks, talk3_dataset.root)
    other = Dataset.objects.create(team=team_b, name="secret")
    return {"users": users, "talks": talks, "other": other, "team_a": team_a}


def sign_in(client, username: str, password: str) -> bool:
    """Client.login through the log-in throttling backend, which needs the request a real log-in has."""
    from django.test import RequestFactory

    return client.login(request=RequestFactory().post("/accounts/login/"), username=username, password=password)
