"""The production server (gunicorn, as scripts/run starts it) for tests."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from testing.support import REPO

PRODUCTION_ENV = {  # the settings README "Serving a lab" documents
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "data.lab.example",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://data.lab.example",
}


def clean_env(**extra: str) -> dict:
    """The environment of a server started by hand (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this one)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the project's configuration, as scripts/run starts it."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        full_env = clean_env(**{"DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(self.port),
                                "WEB_WORKERS": "1", "WEB_THREADS": "4", **env})
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=full_env, check=True,
                       timeout=120)
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO, env=full_env,
                       check=True, timeout=120)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen([str(gunicorn), "-c", "dataset_site/gunicorn_conf.py", "dataset_site.wsgi"],
                                        cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/accounts/login/")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.3)

    def get(self, path: str, **headers: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        connection.request("GET", path, headers={"Host": "localhost", **headers})
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
