"""Team admins manage members; others cannot; outsiders see nothing."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Membership, Role, Team
from testing.support import sign_in

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


def test_two_admins_demoting_each_other_at_once_leave_one_admin(transactional_db):
    """Both requests check "another admin exists" before writing; a slow write makes them overlap every time."""
    import threading
    import time

    from django.db import connection
    from django.db.models.signals import pre_save
    from django.test import Client

    users = {n: get_user_model().objects.create_user(n, password=PASSWORD) for n in ("ann", "ben")}
    team = Team.objects.create(name="Lab B")
    for user in users.values():
        Membership.objects.create(team=team, user=user, role=Role.ADMIN)

    def slow_write(sender, **kwargs):
        time.sleep(0.5)  # widen the window between the check and the write

    pre_save.connect(slow_write, sender=Membership)
    try:
        url = reverse("team_members", args=[team.pk])
        clients = {name: as_user(Client(), name) for name in users}
        barrier = threading.Barrier(2)

        def demote(actor: str, target: str) -> None:
            barrier.wait()
            clients[actor].post(url, {"username": target, "role": "member"})
            connection.close()

        threads = [threading.Thread(target=demote, args=pair) for pair in (("ann", "ben"), ("ben", "ann"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        pre_save.disconnect(slow_write, sender=Membership)
    assert Membership.objects.filter(team=team, role=Role.ADMIN).count() == 1
