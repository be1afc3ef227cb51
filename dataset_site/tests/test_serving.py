"""Serving a lab: the production server (gunicorn + whitenoise), the deployment checklist, log-in throttling."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from testing.server import PRODUCTION_ENV, Server, clean_env
from testing.support import REPO

PASSWORD = "a-long-test-password"


def manage(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = clean_env(DATA_DIR=str(settings.DATA_DIR), **(env or {}))
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=120)


def test_deploy_checklist_passes_with_the_documented_production_settings():
    production = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert production.returncode == 0, production.stdout + production.stderr
    # the same check does see what is missing on a plain-HTTP run
    plain = manage("check", "--deploy", "--fail-level", "WARNING", env={"DJANGO_HTTPS": "0"})
    assert plain.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in plain.stdout + plain.stderr


# --- log-in throttling ------------------------------------------------------

@pytest.fixture
def researcher(db):
    return get_user_model().objects.create_user("researcher", password=PASSWORD)


def post_login(client, password: str, url: str | None = None):
    return client.post(url or reverse("login"), {"username": "researcher", "password": password})


def test_wrong_passwords_lock_the_account_out_until_an_admin_unlocks_it(client, researcher, admin_client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_login(client, "wrong").status_code == 200  # the form again, with its error
    assert post_login(client, "wrong").status_code == 429  # the limit: locked out
    locked = post_login(client, PASSWORD)  # the right password no longer opens the door
    assert locked.status_code == 429 and b"Too many wrong passwords" in locked.content
    assert client.get(reverse("home")).status_code == 302  # not logged in

    # an admin sees the lock-out in the admin and lifts it
    from axes.models import AccessAttempt

    attempts = admin_client.get("/admin/axes/accessattempt/")
    assert attempts.status_code == 200 and b"researcher" in attempts.content
    attempt = AccessAttempt.objects.get(username="researcher")
    admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert post_login(client, PASSWORD).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_admin_log_in_page_is_throttled_too(client, researcher):
    researcher.is_staff = True
    researcher.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "wrong", url="/admin/login/")
    assert post_login(client, PASSWORD, url="/admin/login/").status_code == 429


def test_a_lock_out_is_per_user_name_and_address(client, researcher):
    """A stranger's wrong guesses from elsewhere do not lock a colleague out of their own machine."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "researcher", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert post_login(client, PASSWORD).status_code == 302  # from 127.0.0.1


# --- the production server --------------------------------------------------


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path)
    yield running
    running.stop()


def test_the_server_serves_pages_and_compressed_static_files(server):
    assert server.get("/accounts/login/").status == 200
    css = server.get("/static/css/site.css", **{"Accept-Encoding": "gzip"})
    assert css.status == 200 and css.getheader("Content-Encoding") == "gzip"
    assert server.get("/").status == 302  # the log-in wall holds
    # issue #25 (15): plotly.js (asked for with its version) is kept a year; the project's own files are not
    import plotly

    plotly_js = server.get(f"/static/vendor/plotly.min.js?v={plotly.__version__}")
    assert plotly_js.status == 200 and "max-age=31536000" in plotly_js.getheader("Cache-Control")
    assert "31536000" not in (css.getheader("Cache-Control") or "")


def test_half_open_connections_do_not_starve_the_server(server):
    """200 connections that never finish their request (slowloris) hold no thread: pages still come back."""
    idle = []
    try:
        for index in range(200):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if index % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")  # headers never finished
            idle.append(sock)
        for _ in range(5):
            assert server.get("/accounts/login/").status == 200
    finally:
        for sock in idle:
            sock.close()


def test_behind_a_tls_proxy_plain_http_is_redirected_and_https_gets_hsts(tmp_path):
    server = Server(tmp_path, DJANGO_HTTPS="1", DJANGO_ALLOWED_HOSTS="localhost")
    try:
        plain = server.get("/accounts/login/")
        assert plain.status == 301 and plain.getheader("Location").startswith("https://localhost/")
        https = server.get("/accounts/login/", **{"X-Forwarded-Proto": "https"})
        assert https.status == 200
        assert "max-age=31536000" in https.getheader("Strict-Transport-Security")
        assert "Secure" in https.getheader("Set-Cookie")  # the CSRF cookie travels only over HTTPS
        assert server.get("/accounts/login/", Host="evil.example", **{"X-Forwarded-Proto": "https"}).status == 400
    finally:
        server.stop()


def test_data_dir_and_database_are_private_even_without_scripts_run(tmp_path):
    data_dir = tmp_path / "fresh"
    env = clean_env(DATA_DIR=str(data_dir))
    env.pop("SQLITE_PATH", None)
    subprocess.run(["bash", "-c", f"umask 022 && {sys.executable} manage.py migrate -v0"], cwd=REPO, env=env,
                   check=True, timeout=120)
    assert data_dir.stat().st_mode & 0o777 == 0o700
    for name in ("db.sqlite3", "secret_key"):
        assert (data_dir / name).stat().st_mode & 0o077 == 0, name


def test_a_worker_machine_refuses_to_start_without_the_lab_database(tmp_path):
    """scripts/worker (README "Deploying") needs PostgreSQL: SQLite cannot be shared between machines."""
    env = {k: v for k, v in clean_env(DATA_DIR=str(tmp_path)).items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    result = subprocess.run(["bash", "scripts/worker"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr and "cannot share SQLite" in result.stderr


def test_a_database_that_is_not_answering_gives_503_with_retry_after_not_a_bare_500(researcher, monkeypatch):
    from django.db import OperationalError
    from django.test import Client

    from accounts import access  # every scoped query goes through teams_for

    client = Client(raise_request_exception=False)
    client.force_login(researcher)

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(access, "teams_for", gone)
    page = client.get(reverse("home"))
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert b"The database is not answering" in page.content and b"Try again in a minute" in page.content
    tus = client.post("/datasets/1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10")
    assert tus.status_code == 503 and "database" in tus.json()["error"]

    def bug(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(access, "teams_for", bug)
    page = client.get(reverse("home"))
    assert page.status_code == 500 and b"Something went wrong" in page.content and "Retry-After" not in page


def slow_body(port: int, path: str, length: int) -> socket.socket:
    """Complete headers, then the first byte of a ``length``-byte body: the rest comes a byte at a time, or never."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 f"Cookie: csrftoken=abcdefghijklmnopqrstuvwxyz012345\r\nContent-Length: {length}\r\n\r\nu".encode())
    return sock


def chunked_trickle(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\n\r\n1\r\nu\r\n".encode())
    return sock


def test_slow_request_bodies_do_not_starve_the_server(server):
    """Issue #22 (3): 40 connections trickle a 100 KB log-in body, 8 a 4 MB one and 20 a chunked one (no
    length), a byte every 5 s, for 30 s; with 4 threads, normal pages still come back at once."""
    trickling = [slow_body(server.port, "/accounts/login/", 100_000) for _ in range(40)]
    trickling += [slow_body(server.port, "/datasets/1/uploads/x/", 4_000_000) for _ in range(8)]
    trickling += [chunked_trickle(server.port, "/accounts/login/") for _ in range(20)]  # no length at all
    try:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            for sock in trickling:
                try:
                    sock.sendall(b"1\r\nx\r\n" if sock in trickling[48:] else b"x")
                except OSError:
                    pass
            for _ in range(2):
                t = time.monotonic()
                assert server.get("/accounts/login/").status == 200
                assert time.monotonic() - t < 3, "a page waited for a thread"
            time.sleep(5)
    finally:
        for sock in trickling:
            sock.close()


def test_a_large_body_that_starts_fast_then_trickles_is_cut_off(server):
    """A thread reads a large body only after its first 256 KB came; from then it must keep up 16 KB/s."""
    sock = slow_body(server.port, "/accounts/login/", 2_000_000)  # under Django's 2.5 MB form limit: read whole
    try:
        sock.sendall(b"x" * 300_000)
        started = time.monotonic()
        sock.settimeout(1)
        ended = False
        while time.monotonic() - started < 20 and not ended:
            try:
                sock.sendall(b"x")
                ended = sock.recv(65536) == b""
            except socket.timeout:
                continue
            except OSError:
                ended = True
        assert ended, "a trickling body kept its thread for 20 s"
        assert time.monotonic() - started < 12
    finally:
        sock.close()


def test_a_complete_chunked_body_is_served_at_once(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        body = b"username=a&password=b"
        sock.sendall(b"POST /accounts/login/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
                     + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        started = time.monotonic()
        assert sock.recv(4096).startswith(b"HTTP/1.1 ")  # an answer (the CSRF check refuses it): not held
        assert time.monotonic() - started < 3
    finally:
        sock.close()


def test_a_request_body_cut_off_for_slowness_is_a_408_not_a_500(researcher, monkeypatch):
    """The paced body reads of dataset_site.web_worker end a trickling form post with TimeoutError."""
    from django.test import Client

    from catalog import access

    client = Client(raise_request_exception=False)
    client.force_login(researcher)

    def slow(*args, **kwargs):
        raise TimeoutError("the client sends its request body too slowly")

    monkeypatch.setattr(access, "datasets_for", slow)
    page = client.get(reverse("home"))
    assert page.status_code == 408 and b"The request came too slowly" in page.content
