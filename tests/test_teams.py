"""Team admins manage members; others cannot; outsiders see nothing."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import Membership, Role, Team
from tests.conftest import sign_in

PASSWORD = "a-long-test-password"


@pytest.fixture
def team(db):
    users = {n: get_user_model().objects.create_user(n, password=PASSWORD) for n in ("boss", "ana", "new", "out")}
    team = Team.objects.create(name="Lab A")
    Membership.objects.create(team=team, user=users["boss"], role=Role.ADMIN)
    Membership.objects.create(team=team, user=users["ana"], role=Role.MEMBER)
    return team


def as_user(client, name):
    sign_in(client, name, PASSWORD)
    return client


def test_admin_adds_changes_and_removes(client, team):
    as_user(client, "boss")
    url = reverse("team_members", args=[team.pk])
    client.post(url, {"username": "new", "role": "viewer"})
    assert Membership.objects.get(team=team, user__username="new").role == Role.VIEWER
    client.post(url, {"username": "new", "role": "member"})
    assert Membership.objects.get(team=team, user__username="new").role == Role.MEMBER
    client.post(url, {"username": "new", "action": "remove"})
    assert not Membership.objects.filter(team=team, user__username="new").exists()
    page = client.get(reverse("team_detail", args=[team.pk])).content.decode()
    assert "Add a member" in page and "ana" in page


def test_last_admin_stays(client, team):
    as_user(client, "boss")
    client.post(reverse("team_members", args=[team.pk]), {"username": "boss", "role": "viewer"})
    assert Membership.objects.get(team=team, user__username="boss").role == Role.ADMIN


def test_members_cannot_manage_and_outsiders_get_404(client, team):
    as_user(client, "ana")
    assert client.post(reverse("team_members", args=[team.pk]), {"username": "new", "role": "admin"}).status_code == 403
    assert "Add a member" not in client.get(reverse("team_detail", args=[team.pk])).content.decode()
    as_user(client, "out")
    assert client.get(reverse("team_detail", args=[team.pk])).status_code == 404
    assert client.post(reverse("team_members", args=[team.pk]), {"username": "out", "role": "admin"}).status_code == 404
    assert not Membership.objects.filter(user__username__in=["new", "out"]).exists()
