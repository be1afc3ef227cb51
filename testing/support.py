"""What tests share that is not a fixture: where things are, signing in, reading what a test got."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import zipfile
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


def read_table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _three_clip_params():
    from pipeline.audio.segment import SegmentParams
    from pipeline.dataset.build import DatasetParams

    return DatasetParams(segment=SegmentParams(max_gap=1.5, min_clip=2))


THREE_CLIPS = _three_clip_params()


CATALOG_PASSWORD = "a-long-test-password"


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


def login(client, name: str):
    assert sign_in(client, name, CATALOG_PASSWORD)
    return client


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str, code: int = 2) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def figures(response) -> dict[str, dict]:
    """The report's Plotly figures, as the page embeds them (json_script)."""
    html = response.content.decode()
    found = re.findall(r'<script id="figure-([\w-]+)" type="application/json">(.*?)</script>', html, re.S)
    def reject(constant: str):
        raise AssertionError(f"{constant} is not JSON: the browser's JSON.parse would fail")

    return {name: json.loads(text, parse_constant=reject) for name, text in found}


def fetch_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip" and response.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
