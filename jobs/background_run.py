"""One background run of a model that has ``status`` (queued, running, done, failed), ``run_token``,
``heartbeat``, ``attempts``, ``error`` and ``finished`` (reports.BaselineRun, exports.ExportJob): claimed by a
conditional UPDATE, its heartbeats written by a Supervisor while it works, done or failed with the reason, and
re-queued by a watchdog when its worker died (failed, saying why, after ``max_attempts``)."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from jobs.supervise import Supervisor
from pipeline.errors import PipelineError

log = logging.getLogger(__name__)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def _stale_q() -> Q:
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)
    return Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)


def claim(model, pk: int) -> str | None:
    """Take a queued run (or a running one whose worker died) for one attempt: its token, or None."""
    token = secrets.token_hex(16)
    free = Q(status=QUEUED) | Q(status=RUNNING) & _stale_q()
    taken = model.objects.filter(free, pk=pk).update(status=RUNNING, run_token=token, heartbeat=timezone.now(),
                                                      attempts=F("attempts") + 1)
    return token if taken else None


def run_once(model, pk: int, body: Callable, again: str) -> tuple[str, object]:
    """Claim the run and do ``body(obj, mine, token)`` (``mine``: the run's row while this attempt owns it), which
    returns the fields to store when done.  Returns ("done", fields), ("failed", reason) or ("not claimed", None).
    An unexpected exception is recorded ("internal error ...; <again>, or report it") and raised for the log."""
    token = claim(model, pk)
    if not token:
        return "not claimed", None
    mine = model.objects.filter(pk=pk, run_token=token, status=RUNNING)
    obj = model.objects.get(pk=pk)

    def beat() -> bool:
        return bool(mine.update(heartbeat=timezone.now()))

    def hung(reason: str) -> None:
        mine.update(status=FAILED, error=f"hung: {reason}", finished=timezone.now())

    try:
        with Supervisor(beat, hung):
            fields = body(obj, mine, token)
        mine.update(status=DONE, finished=timezone.now(), **fields)
        return "done", fields
    except (ValueError, OSError, PipelineError) as exc:
        mine.update(status=FAILED, error=str(exc), finished=timezone.now())
        return "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded for the user (and re-raised for django-q2's log)
        log.exception("%s %s failed", model.__name__, pk)
        mine.update(status=FAILED, error=f"internal error ({type(exc).__name__}: {exc}); {again}, or report it",
                    finished=timezone.now())
        raise


def requeue_stalled(model, enqueue: Callable, max_attempts: int, doing: str, again: str) -> int:
    """Watchdog: a running run without heartbeat is queued again, or failed after ``max_attempts``, saying why."""
    count = 0
    for run in model.objects.filter(status=RUNNING).filter(_stale_q()):
        same = model.objects.filter(pk=run.pk, status=RUNNING, run_token=run.run_token)
        if run.attempts >= max_attempts:
            same.update(status=FAILED, finished=timezone.now(),
                        error=f"the worker stopped {run.attempts} times while {doing} (a crash, out of memory, or "
                              f"the task time limit Q_TIMEOUT); {again} with fewer clips, or report it")
        elif same.update(status=QUEUED, run_token=""):
            enqueue(run)
            count += 1
    return count
