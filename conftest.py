"""Fixtures every test may use (pytest finds this file for the whole tree): the real media, cached extractions,
the talk3 dataset, labs of users and teams, a video job.  Helpers that are not fixtures are in testing/."""
from __future__ import annotations

import pytest

from testing.support import (
    CATALOG_PASSWORD,
    THREE_CLIPS,
    make_lab,
    media_path,
    read_table,
)

TALK3_PARAMS = {"max_gap": 1.5, "min_clip": 2}  # the options of THREE_CLIPS, as a video job's params


@pytest.fixture(scope="session")
def media():
    return media_path


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


@pytest.fixture(scope="session")
def talk3_dataset(media, tmp_path_factory):
    """make_dataset of talk3.mp4 with --max_gap 1.5 --min_clip 2: three clips, built once per session."""
    from pipeline.dataset.build import build_dataset

    root = tmp_path_factory.mktemp("talk3_dataset")
    return build_dataset(media("talk3.mp4"), root, THREE_CLIPS, workers=2)


@pytest.fixture
def lab(db, talk3_dataset):
    """Two teams: lab A owns the imported talk3 dataset ("talks"), with 'ana' a member and 'vic' a viewer;
    'bob' is admin of lab B, which owns an empty dataset ("secret")."""
    return make_lab(talk3_dataset)


@pytest.fixture
def live_lab(transactional_db, talk3_dataset):
    """``lab`` committed to the database, so a live server thread sees it (browser tests)."""
    return make_lab(talk3_dataset)


@pytest.fixture
def upload_lab(db):
    """One team (ana a member, vic a viewer) with an empty dataset, for upload tests."""
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Role, Team
    from catalog.models import Dataset

    users = {name: get_user_model().objects.create_user(name, password=CATALOG_PASSWORD) for name in ("ana", "vic", "bob")}
    team = Team.objects.create(name="Lab A")
    Membership.objects.create(team=team, user=users["ana"], role=Role.MEMBER)
    Membership.objects.create(team=team, user=users["vic"], role=Role.VIEWER)
    return {"dataset": Dataset.objects.create(team=team, name="talks"), **users}


@pytest.fixture
def team_video(transactional_db, media, tmp_path):
    """A queued job of talk3.mp4 (three clips) in ana's team, committed so worker processes see it."""
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Role, Team
    from catalog.models import Dataset, Video

    user = get_user_model().objects.create_user("ana", password=CATALOG_PASSWORD)
    team = Team.objects.create(name="Lab A")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    dataset = Dataset.objects.create(team=team, name="talks")
    video = Video.objects.create(dataset=dataset, source_name="talk3.mp4", source_path=str(media("talk3.mp4")),
                                 output_dir=str(tmp_path / "out"), params=TALK3_PARAMS, uploaded_by=user)
    return video
