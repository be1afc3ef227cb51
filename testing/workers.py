"""Real django-q2 worker clusters for tests: start, stop, wait for what they do."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings

from testing.support import REPO


def worker_database_env() -> dict[str, str]:
    """What a worker process needs to use this test run's database (SQLite file or PostgreSQL test database)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return {"DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return {"SQLITE_PATH": str(db["NAME"])}


def start_worker(**env) -> subprocess.Popen:
    environment = {**os.environ, "DATA_DIR": str(settings.DATA_DIR), **worker_database_env(),
                   "Q_WORKERS": "2", **env}  # two workers share the database
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=REPO, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def wait_for(predicate, seconds: float = 180.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting")
