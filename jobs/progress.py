"""Progress of a running video job, written to its Video row (short UPDATEs, throttled)."""
from __future__ import annotations

import time

from django.conf import settings
from django.utils import timezone

from catalog.models import Video


class JobCancelled(Exception):
    """The user cancelled this job; stop at the next progress report."""


class VideoProgress:
    """A pipeline ProgressFactory that records stage, clips done/total and a heartbeat on the Video row."""

    STAGES = {"clips": "extracting clips"}

    def __init__(self, video_id: int, token: str) -> None:
        self.video_id, self.token = video_id, token
        self.last_write = 0.0

    def beat(self, force: bool = False, **fields) -> None:
        now = time.monotonic()
        if not force and not fields and now - self.last_write < settings.JOB_HEARTBEAT_SECONDS:
            return
        self.last_write = now
        updated = Video.objects.filter(pk=self.video_id, status=Video.Status.RUNNING, run_token=self.token).update(
            heartbeat=timezone.now(), **fields)
        if not updated:  # cancelled, retried or taken over meanwhile: this attempt no longer owns the job
            raise JobCancelled()

    def __call__(self, stage: str, total: float | None, unit: str) -> "_Bar":
        if stage == "clips":
            self.beat(force=True, stage=self.STAGES[stage], clips_total=int(total or 0), clips_done=0)
        else:
            self.beat(force=True, stage=self.STAGES.get(stage, stage))
        return _Bar(self, counts_clips=stage == "clips")


class _Bar:
    def __init__(self, owner: VideoProgress, counts_clips: bool) -> None:
        self.owner, self.counts_clips, self.done = owner, counts_clips, 0

    def update(self, n: float = 1) -> None:
        if self.counts_clips and n:
            self.done += int(n)
            self.owner.beat(force=True, clips_done=self.done)
        else:  # n == 0: "still working" (a heartbeat, throttled), which also notices a cancel
            self.owner.beat()

    def close(self) -> None:
        pass
