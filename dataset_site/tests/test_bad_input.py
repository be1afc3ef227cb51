"""Issue #22: hostile values at every route of the dashboard, for every role, never give a 5xx.

The routes come from the URL resolver (so a new page is covered the day it is added); the parameter names
from the views' own sources (every ``request.GET``/``request.POST`` key they read).  Each route gets its
path converters filled with real ids and with hostile ones, and its parameters all at once with each
hostile value, on GET and POST, as every role: admin, member, viewer, another team's admin, anonymous.
"""
from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Membership, Role
from testing.support import CATALOG_PASSWORD, REPO, sign_in

HOSTILE = ["abc", "", "nan", "inf", "-inf", "1e308", "-1", "0", "99999999999999999999999", "1.5", "ünïcødé\u202e",
           "<script>alert(1)</script>", "../../etc/passwd", "%00", "a" * 5000]
HOSTILE_IDS = {"int": ["0", "99999999999999999999999"], "uuid": ["00000000-0000-0000-0000-000000000000"],
               "slug": ["video", "x" * 300, "..--"], "str": ["..", "x" * 300, "%2e%2e"]}


def routes(patterns=None, prefix: str = "") -> list[tuple[str, str]]:
    """(route, name) of every dashboard URL pattern, Django's admin left out (not ours)."""
    out = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue
            out += routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            out.append((route, entry.name or ""))
    return out


def parameter_names() -> list[str]:
    names = set()
    for source in [*REPO.glob("catalog/*.py"), *REPO.glob("jobs/*.py"), *REPO.glob("reports/*.py"),
                   *REPO.glob("dataset_site/*.py")]:
        text = source.read_text()
        names |= set(re.findall(r"request\.(?:GET|POST)(?:\.get|\.getlist)?\(\s*[\"'](\w+)[\"']", text))
        names |= set(re.findall(r"request\.(?:GET|POST)\[[\"'](\w+)[\"']\]", text))
    names |= {"score_min", "score_max", "threshold", "sort", "order", "page", "q", "tag", "verdict", "files",
              "duration_min", "duration_max", "video", "status", "name", "team", "role", "user", "clip", "ids",
              "seed", "preset", "action", "format", "curves", "valid_rate", "tracking", "lip_sync"}
    return sorted(names)


def fill(route: str, objects: dict[str, str], hostile: str | None = None) -> str:
    """The route with each converter replaced by a real id of the right kind, or by ``hostile``."""
    def value(match: re.Match) -> str:
        kind, name = match.group(1) or "str", match.group(2)
        if hostile is not None:
            return hostile
        return objects.get(name, objects.get(kind, "1"))
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route).replace("^", "").replace("$", "")


@pytest.fixture
def everyone(lab):
    from django.contrib.auth import get_user_model

    from exports.models import Selection
    from exports.selections import (
        freeze,  # a selection exists, so its pages have a real key
    )

    ada = get_user_model().objects.create_user("ada", password=CATALOG_PASSWORD)
    Membership.objects.create(team=lab["team_a"], user=ada, role=Role.ADMIN)
    clip = lab["talks"].clips.first()
    text, digest, count = freeze(lab["talks"].clips.order_by("name"))
    key = str(Selection.objects.create(dataset=lab["talks"], name="fuzz", clip_count=count, manifest=text,
                                       manifest_sha256=digest, created_by=lab["users"]["ana"]).key)
    objects = {"pk": str(lab["talks"].pk), "int": str(clip.pk), "uuid": key, "key": key, "slug": "video",
               "role": "video", "str": "x"}
    return lab, objects


def clients() -> dict[str, Client]:
    out = {"anonymous": Client(raise_request_exception=False)}
    for name in ("ada", "ana", "vic", "bob"):
        client = Client(raise_request_exception=False)
        assert sign_in(client, name, CATALOG_PASSWORD)
        out[name] = client
    return out


def test_no_route_answers_a_hostile_request_with_a_5xx(everyone, settings):
    lab, objects = everyone
    settings.DEBUG = False
    names = parameter_names()
    failures: list[str] = []
    every = [r for r in routes() if r[1] != "logout"]  # it would end the session the rest is tried with
    assert len(every) > 25 and any(name == "dataset_detail" for _, name in every)
    # deleting and revoking routes last, so they do not remove what the others are tried on
    every.sort(key=lambda r: any(word in r[0] for word in ("delete", "revoke", "members")))
    sent = 0
    for role, client in clients().items():
        for route, name in every:
            kinds = re.findall(r"<(?:(\w+):)?\w+>", route)
            urls = [fill(route, objects)]
            for kind in set(k or "str" for k in kinds):
                urls += [fill(route, objects, bad) for bad in HOSTILE_IDS.get(kind, [])]
            for url in urls:
                for bad in HOSTILE:
                    params = {key: bad for key in names}
                    for method in ("get", "post"):
                        response = getattr(client, method)(url, params)
                        sent += 1
                        if response.status_code >= 500:
                            failures.append(f"{role} {method.upper()} {url} ({name}) {bad[:20]!r}: {response.status_code}")
                repeated = client.get(url, {"score_min": ["1", "abc"], "sort": ["score", "x"], "tag": ["a", "b"]})
                sent += 1
                if repeated.status_code >= 500:
                    failures.append(f"{role} GET {url} repeated keys: {repeated.status_code}")
    assert sent > 5000
    assert not failures, f"{len(failures)} requests got a 5xx:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("headers", [
    {"HTTP_UPLOAD_LENGTH": "1e308"}, {"HTTP_UPLOAD_LENGTH": "99999999999999999999999"},
    {"HTTP_UPLOAD_LENGTH": "-5"}, {"HTTP_UPLOAD_LENGTH": "nan"},
    {"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "filename !!!,min_clip bmFu"},
    {"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "min_clip MWUzMDg=,max_clip aW5m"},  # 1e308, inf
    {"HTTP_UPLOAD_LENGTH": "10", "HTTP_UPLOAD_METADATA": "vad_mode OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
])
def test_tus_headers_with_hostile_values_get_a_4xx(everyone, headers):
    lab, _ = everyone
    client = clients()["ana"]
    response = client.post(f"/datasets/{lab['talks'].pk}/uploads/", HTTP_TUS_RESUMABLE="1.0.0", **headers)
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize("name", ["dataset_download", "training_download", "dataset_report"])
def test_one_reply_to_a_filter_not_understood_400_as_a_page_or_as_json(everyone, name):
    """Issue #23: the same 400 with the reason everywhere; JSON for a script that asks for it."""
    from django.urls import reverse

    lab, _ = everyone
    client = clients()["vic"]
    url = reverse(name, args=[lab["talks"].pk]) + "?score_min=lots"
    page = client.get(url)
    assert page.status_code == 400 and 'id="filter-errors"' in page.content.decode()
    assert "score_min" in page.content.decode()
    data = client.get(url, HTTP_ACCEPT="application/json")
    assert data.status_code == 400 and "score_min" in data.json()["error"]
