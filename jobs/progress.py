"""Progress of a running video job, written to its Video row (short UPDATEs, throttled)."""
from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone

from jobs.state import this_attempt


class JobCancelled(Exception):
    """The user cancelled this job; stop at the next progress report."""


class VideoProgress:
    """Heartbeats (and stage fields) of one attempt of a video job, written to its Video row; raises JobCancelled
    once the attempt no longer owns the job."""

    def __init__(self, video_id: int, token: str) -> None:
        self.video_id, self.token = video_id, token
        self.last_write = 0.0

    def beat(self, force: bool = False, **fields) -> None:
        now = time.monotonic()
        if not force and not fields and now - self.last_write < settings.JOB_HEARTBEAT_SECONDS:
            return
        self.last_write = now
        updated = this_attempt(self.video_id, self.token).update(heartbeat=timezone.now(), **fields)
        if not updated:  # cancelled, retried or taken over meanwhile: this attempt no longer owns the job
            raise JobCancelled()
