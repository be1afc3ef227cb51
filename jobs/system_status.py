"""Facts the dashboard shows about the installation itself."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from pipeline.errors import ModelError
from pipeline.face.model import resolve_model_path, verify_model


@dataclass(frozen=True)
class ModelStatus:
    path: str
    ok: bool
    detail: str


@functools.lru_cache(maxsize=4)
def _model_status(path: str, mtime_ns: int) -> ModelStatus:
    try:
        info = verify_model(path)
    except ModelError as exc:
        return ModelStatus(path, False, exc.problem)
    kind = "official model" if info.official else "custom model"
    return ModelStatus(path, True, f"{kind}, sha256 {info.sha256[:16]}…")


def model_status() -> ModelStatus:
    path = resolve_model_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    return _model_status(str(path), mtime)


@dataclass(frozen=True)
class WorkerStatus:
    clusters: int
    workers: int
    detail: str


def live_clusters() -> list:
    """django-q2 clusters (any machine) whose heartbeat is in the shared cache and that are not stopped."""
    from django_q.status import Stat

    return [s for s in Stat.get_all() if str(s.status) != "Stopped"]


def worker_status() -> WorkerStatus:
    """django-q2 clusters that reported a heartbeat through the shared cache."""
    stats = live_clusters()
    workers = sum(len(s.workers) for s in stats)
    if not stats:
        return WorkerStatus(0, 0, "no worker is running: start one with `python manage.py qcluster`")
    states = ", ".join(sorted({str(s.status) for s in stats}))
    return WorkerStatus(len(stats), workers, f"{len(stats)} cluster(s), {workers} worker process(es): {states}")
