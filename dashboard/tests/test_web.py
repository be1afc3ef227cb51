"""The dashboard skeleton: log-in wall, status page, first administrator, a real worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from testing.support import REPO, sign_in


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("researcher", password="a-long-test-password")


def test_every_page_requires_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_and_log_in(client, user):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b"Log in" in page.content
    response = client.post(reverse("login"), {"username": "researcher", "password": "a-long-test-password"})
    assert response.status_code == 302 and response.url == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert b'id="model-status"' in home.content and b"ready" in home.content


def test_wrong_password_is_refused(client, user):
    response = client.post(reverse("login"), {"username": "researcher", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_csrf_is_enforced(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "researcher", "password": "a-long-test-password"})
    assert response.status_code == 403


def test_initial_admin_is_created_once(db, capsys, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("create_initial_admin")
    out = capsys.readouterr().out
    assert "Created administrator 'admin' with password:" in out
    password = out.split("password: ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert (tmp_path / "initial_admin_password.txt").read_text() == f"user name: admin\npassword: {password}\n"  # one space: copied whole
    from accounts.models import Membership

    membership = Membership.objects.get(user=admin)
    assert membership.role == "admin" and membership.team.datasets.filter(name="First dataset").exists()
    call_command("create_initial_admin")
    assert "existing administrator" in capsys.readouterr().out
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_admin_site_works_for_staff(client, db):
    get_user_model().objects.create_superuser("boss", password="a-long-test-password")
    sign_in(client, "boss", "a-long-test-password")
    assert client.get("/admin/").status_code == 200


def test_status_page_sees_a_real_worker(client, user, settings):
    """Start `manage.py qcluster` on the same data folder and watch its heartbeat reach the page."""
    env = {**os.environ, "DATA_DIR": str(settings.DATA_DIR), "Q_WORKERS": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True, timeout=120)
    sign_in(client, "researcher", "a-long-test-password")
    assert b'id="worker-status">stopped' in client.get(reverse("home")).content
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        content = b""
        while time.monotonic() < deadline:
            content = client.get(reverse("home")).content
            if b'id="worker-status">running' in content:
                break
            time.sleep(1)
        assert b'id="worker-status">running' in content
    finally:
        worker.terminate()  # SIGTERM to the cluster's main process: it stops its workers itself
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
