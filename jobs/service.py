"""Starting, cancelling and retrying video jobs (what views and commands call)."""
from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from catalog.models import Video
from catalog.shared_footage import forget_shared_footage
from jobs import state
from jobs.messages import enqueue


def cancel(video: Video) -> bool:
    return state.cancel(video.pk)


def retry(video: Video) -> bool:
    """Failed or cancelled jobs go back to the queue and continue from their finished clips."""
    if state.requeue(video.pk):
        enqueue(video)
        return True
    return False


class Refused(Exception):
    """The change cannot be made in the video's current state; the message says why and what to do."""


def video_folder(video: Video) -> Path | None:
    """The folder the server made for an uploaded video (its recording and clips); None for imports."""
    if not video.source_path:
        return None
    folder = Path(settings.DATA_DIR) / "videos" / str(video.pk)
    return folder if Path(video.source_path).parent == folder else None


def folder_bytes(folder: Path | None) -> int:
    if folder is None or not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _idle(video: Video) -> None:
    if video.status in (Video.Status.QUEUED, Video.Status.RUNNING):
        raise Refused("its job is queued or running: cancel it first")
    if video.run_token:
        raise Refused("its cancelled job is still stopping: try again in a moment")


def _remove_clip_files(clip_ids: list[int]) -> None:
    from catalog.models import Clip
    from catalog.thumbnails import thumbnail_path  # one JPEG per clip id

    for pk in clip_ids:
        thumbnail_path(Clip(pk=pk)).unlink(missing_ok=True)


def reprocess(video: Video, params: dict) -> None:
    """Replace the video's clips with a new run under ``params``; curation carries over (jobs.carry_over)."""
    from catalog.models import Clip
    from jobs.carry_over import curation_of

    _idle(video)
    if video_folder(video) is None or not Path(video.source_path).is_file():
        raise Refused("it was imported from a make_dataset folder, so the server has no recording to cut again")
    carry = curation_of(video)
    with transaction.atomic():
        if not state.requeue_idle(video.pk, params=params, report={}, clips_done=0, clips_total=0,
                                  carry_over=carry):
            raise Refused("its job started meanwhile: cancel it first")
        clip_ids = list(Clip.objects.filter(video=video).values_list("pk", flat=True))
        Clip.objects.filter(video=video).delete()
    _remove_clip_files(clip_ids)
    shutil.rmtree(video.output_dir, ignore_errors=True)  # the old clips' files: the new run writes its own
    enqueue(video)


def delete_video(video: Video) -> dict:
    """Delete the video, its clips and (for uploads) its folder on disk; returns what went."""
    from catalog.models import Clip

    _idle(video)
    folder = video_folder(video)
    gone = {"clips": video.clips.count(), "bytes": folder_bytes(folder), "files_kept": folder is None}
    clip_ids = list(Clip.objects.filter(video=video).values_list("pk", flat=True))
    with transaction.atomic():
        if not Video.objects.filter(pk=video.pk, run_token="").exclude(
                status__in=[Video.Status.QUEUED, Video.Status.RUNNING]).delete()[0]:
            raise Refused("its job started meanwhile: cancel it first")
        forget_shared_footage(video)
    _remove_clip_files(clip_ids)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return gone
