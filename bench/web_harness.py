"""What the web benchmarks share: a seeded throwaway database and a running server on loopback."""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Run inside a Django process: migrate (and empty the PostgreSQL database of DATABASE_URL), then a user "bench" with ``ROLE`` in team "Bench lab" and a dataset
# "large"; the snippet that follows sees ``user``, ``team`` and ``ds``.
_SETUP = """
import django, os, random
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataset_site.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
if os.environ.get("DATABASE_URL"):  # a PostgreSQL database given to the benchmark: start it empty
    call_command("flush", interactive=False, verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)  # what scripts/run does: whitenoise serves STATIC_ROOT
from django.contrib.auth import get_user_model
from catalog.db import refresh_planner_stats
from catalog.models import Clip, Dataset, Tag, Video
from accounts.models import Membership, Team
user = get_user_model().objects.create_user("bench", password="bench-password-123")
team = Team.objects.create(name="Bench lab")
Membership.objects.create(team=team, user=user, role={role!r})
ds = Dataset.objects.create(team=team, name="large")
"""


def seed_database(data_dir: Path, role: str, snippet: str) -> str:
    """Run the setup plus ``snippet`` against DATA_DIR=``data_dir``; return the last line it printed."""
    code = _SETUP.format(role=role) + snippet
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "DATA_DIR": str(data_dir)},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(re.search(rf"{field}:\s+(\d+)", fh.read()).group(1))


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return [pid] + [p for child in children for p in tree(child)]


def rss_mib(pid: int) -> float:
    """Resident memory of the server: the gunicorn master and its workers together."""
    return sum(_status(p, "VmRSS") for p in tree(pid)) / 1024


def thread_count(pid: int) -> int:
    return sum(_status(p, "Threads") for p in tree(pid))


@contextlib.contextmanager
def running_server(data_dir: Path) -> Iterator[tuple[str, int]]:
    """gunicorn with the project's configuration (what scripts/run serves with) on a free port;
    yields (base URL, master pid)."""
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen([str(gunicorn), "-c", "dataset_site/gunicorn_conf.py", "dataset_site.wsgi"], cwd=REPO,
                              env={**os.environ, "DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/accounts/login/")
                break
            except OSError:
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait()
