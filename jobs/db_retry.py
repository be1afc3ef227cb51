"""Ride out a database restart: retry a short unit of job bookkeeping until the server answers again.

A clip takes minutes to cut and touches the database only at its start and end (and for heartbeats).
If PostgreSQL restarts meanwhile, the worker's connection is dead; without a retry the finished clip's
record would be lost and the clip cut again after the watchdog's delay.  Each retry drops the dead
connection so the next attempt opens a new one.  Past ``seconds`` the error is raised: the clip then
stays "running" with a stale heartbeat, which the watchdog re-queues (a retryable state, nothing lost).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")
DOWN = (OperationalError, InterfaceError)


def drop_connection() -> None:
    try:
        connection.close()
    except DOWN:
        pass  # closing a dead connection can itself fail; Django forgets it either way


def with_db_retry(work: Callable[[], T], seconds: float = 120.0, pause: float = 2.0) -> T:
    """Run ``work`` (which must be safe to repeat), retrying while the database is unreachable."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return work()
        except DOWN as exc:
            if connection.in_atomic_block or time.monotonic() > deadline:
                raise
            log.warning("database unreachable (%s); retrying in %.0f s", exc, pause)
            drop_connection()
            time.sleep(pause)
