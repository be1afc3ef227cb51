"""Watch one task's work from a thread beside it: heartbeats, cancels that stop the work, hangs that end it.

A task (planning a video, or cutting one clip) runs in a django-q2 worker process.  While it works, a
thread here:

* writes its heartbeat every JOB_HEARTBEAT_SECONDS (the watchdog's evidence that the worker lives);
* notices when the attempt is no longer current (the user cancelled, or a retry superseded it) and asks
  the pipeline to stop: every demux and decode raises at its next packet (pipeline.media.media_open), so the
  work ends within a second or two; if it is stuck inside FFmpeg and does not end within
  CANCEL_GRACE_SECONDS, the process exits, freeing the worker (django-q2 starts a fresh one);
* notices a call into FFmpeg that has returned no packet for MEDIA_STALL_SECONDS: the attempt is recorded
  as hung, with that reason, and the process exits the same way.  A recording that hangs or whose worker
  dies twice is failed for good (jobs.tasks, jobs.fanout), never re-queued for ever.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings

from jobs.db_retry import DOWN, drop_connection
from pipeline.media import media_open

log = logging.getLogger(__name__)
EXIT_HUNG = 75
EXIT_STUCK_AFTER_CANCEL = 76
POLL_SECONDS = 0.5


class Supervisor:
    """``beat()`` writes the heartbeats and says whether the attempt is still current; ``on_hang(reason)``
    records a hang; ``exit(code)`` ends the process (a test passes its own)."""

    def __init__(self, beat: Callable[[], bool], on_hang: Callable[[str], None],
                 exit: Callable[[int], None] = os._exit) -> None:
        self.beat, self.on_hang, self.exit = beat, on_hang, exit
        self.done = threading.Event()
        self.stopping_since: float | None = None
        self.thread = threading.Thread(target=self.run, name="supervisor", daemon=True)

    def run(self) -> None:
        next_beat = time.monotonic() + settings.JOB_HEARTBEAT_SECONDS
        try:
            while not self.done.wait(POLL_SECONDS):
                now = time.monotonic()
                stalled = media_open.longest_call_s()
                if stalled > settings.MEDIA_STALL_SECONDS:
                    self.hung(f"no new packet from the recording for {stalled:.0f} s (FFmpeg stopped responding)")
                    return
                if self.stopping_since is not None and now - self.stopping_since > settings.CANCEL_GRACE_SECONDS:
                    log.warning("the cancelled work did not stop within %s s: ending this worker process",
                                settings.CANCEL_GRACE_SECONDS)
                    self.exit(EXIT_STUCK_AFTER_CANCEL)
                    return
                if now >= next_beat:
                    next_beat = now + settings.JOB_HEARTBEAT_SECONDS
                    self.check_current()
        finally:
            drop_connection()

    def check_current(self) -> None:
        try:
            current = self.beat()
        except DOWN:  # the database is restarting: keep working, beat again next time
            drop_connection()
            return
        if not current and self.stopping_since is None:
            self.stopping_since = time.monotonic()
            media_open.request_stop()

    def hung(self, reason: str) -> None:
        log.error("hung: %s", reason)
        try:
            self.on_hang(reason)
        except Exception:  # noqa: BLE001 - the process must end either way; the watchdog covers a lost record
            log.exception("could not record the hang")
        self.exit(EXIT_HUNG)

    def __enter__(self) -> "Supervisor":
        media_open.clear_stop()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()
        media_open.clear_stop()
