from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat, pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from catalog import access
from catalog.redact import server_paths_hidden
from jobs import service
from jobs.why import shortfall
from pipeline.dataset.options import DEFAULTS, STORED
from pipeline.errors import PipelineError
from uploads.form import UploadParamsForm
from uploads.tus import parse_params


def _video(request: HttpRequest, pk: int, min_role: str = Role.VIEWER):
    video = get_object_or_404(access.videos_for(request.user).select_related("dataset__team"), pk=pk)
    if min_role != Role.VIEWER:
        access.require_role(request.user, video.dataset.team, min_role)
    return video


def video_error(video, user) -> str:
    return server_paths_hidden(video.error, user, Path(video.source_path).parent if video.source_path else "")


def took(video) -> str:
    """How long the job ran, in words ("1 min 23 s"); "" before it started."""
    if video.started is None:
        return ""
    seconds = int(((video.finished or timezone.now()) - video.started).total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def run_settings(video) -> list[dict]:
    """The options this job ran with (the video's stored ones over the defaults), marked where they differ."""
    stored = video.params or {}
    return [{"name": o.name, "value": stored.get(o.name, DEFAULTS[o.name]), "unit": o.unit,
             "changed": o.name in stored and stored[o.name] != DEFAULTS[o.name]} for o in STORED]


def lowest_clips(video) -> list[dict]:
    """The ten lowest-scored clips that lose points, and why (the job page's "Why clips lost points")."""
    clips = video.clips.order_by("quality_score", "name").only("id", "name", "quality_score", "quality_reasons")[:10]
    return [{"name": c.name, "url": reverse("clip_detail", args=[c.pk]), "score": round(c.quality_score, 1),
             "reasons": "; ".join(c.quality_reasons)} for c in clips if c.quality_reasons]


def video_status_data(video, user) -> dict:
    why = shortfall(video)
    done = video.status == video.Status.DONE
    return {"why": None if why is None else {"sentence": why.sentence, "suggested_min_clip": why.suggested_min_clip},
            "started": video.started.isoformat() if video.started else None,
            "finished": video.finished.isoformat() if video.finished else None, "took": took(video),
            "lowest": lowest_clips(video) if done else [],
            "id": video.pk, "status": video.status, "stage": video.stage, "clips_done": video.clips_done,
            "clips_total": video.clips_total, "error": video_error(video, user), "attempts": video.attempts,
            "heartbeat": video.heartbeat.isoformat() if video.heartbeat else None}


def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    video = _video(request, pk)
    role = access.role_in(request.user, video.dataset.team)
    settings_form = UploadParamsForm(initial={**DEFAULTS, **(video.params or {})}, auto_id="reprocess_%s")
    return render(request, "jobs/video_detail.html", {"video": video, "status": video_status_data(video, request.user),
                                                      "error": video_error(video, request.user),
                                                      "why": shortfall(video), "settings_form": settings_form,
                                                      "can_reprocess": service.video_folder(video) is not None,
                                                      "can_edit": role in (Role.MEMBER, Role.ADMIN),
                                                      "lowest": lowest_clips(video), "took": took(video),
                                                      "run_settings": run_settings(video),
                                                      "sync": recording_sync(video),
                                                      "shots": (video.report or {}).get("shots")})


def recording_sync(video) -> dict | None:
    """The recording's pooled lip sync (its report's), with its curve as a figure; None before it was measured."""
    from dashboard.clips import lip_sync_figure
    from catalog.filters import VERDICT_WORDS

    sync = (video.report or {}).get("lip_sync")
    if not isinstance(sync, dict) or not sync.get("verdict"):
        return None
    return {**sync, "words": VERDICT_WORDS.get(sync["verdict"], sync["verdict"]),
            "figure": lip_sync_figure(sync, "This recording's clips pooled: fit of mouth to audio at each offset")}


def video_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the video page every two seconds."""
    return JsonResponse(video_status_data(_video(request, pk), request.user))


def _job_action(request: HttpRequest, pk: int, action, refused: str) -> HttpResponse:
    """A member's button on the job (cancel, retry): the action, or a note when the job's state refuses it."""
    video = _video(request, pk, Role.MEMBER)
    if not action(video):
        messages.info(request, refused)
    return redirect("video_detail", pk=video.pk)


@require_POST
def video_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_action(request, pk, service.cancel, "Only a queued or running job can be cancelled.")


@require_POST
def video_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_action(request, pk, service.retry, "Only a failed or cancelled job can be retried.")


@require_POST
def video_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    """Cut the recording again with new settings (those posted; the others stay as they were)."""
    video = _video(request, pk, Role.MEMBER)
    posted = {o.name: request.POST[o.name] for o in STORED if request.POST.get(o.name, "") != ""}
    try:
        params = parse_params({**{k: str(v) for k, v in (video.params or {}).items()}, **posted})
        service.reprocess(video, params)
    except ValueError as exc:
        messages.error(request, f"Not reprocessed: {exc}.")
    except service.Refused as exc:
        messages.error(request, f"Not reprocessed: {exc}.")
    else:
        changed = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in posted.items() if
                            (video.params or {}).get(k) != params.get(k))
        messages.success(request, f"Reprocessing with {changed or 'the same settings'}; tags and rejections carry "
                                  "over to new clips that cover the same speech.")
    return redirect("video_detail", pk=video.pk)


def video_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what would go; POST: delete the video, its clips and its files."""
    video = _video(request, pk, Role.MEMBER)
    folder = service.video_folder(video)
    if request.method == "POST":
        try:
            gone = service.delete_video(video)
        except service.Refused as exc:
            messages.error(request, f"Not deleted: {exc}.")
            return redirect("video_detail", pk=video.pk)
        kept = " (the imported folder on the server was left as it is)" if gone["files_kept"] else ""
        messages.success(request, f"Deleted {video.source_name}: {gone['clips']} clip{pluralize(gone['clips'])}, "
                                  f"{filesizeformat(gone['bytes'])} of files{kept}.")
        return redirect("dataset_detail", pk=video.dataset_id)
    return render(request, "jobs/video_delete.html", {"video": video, "clips": video.clips.count(),
                                                      "bytes": service.folder_bytes(folder), "imported": folder is None})


PLAYABLE = {"mov": "video/mp4", "matroska": "video/webm", "ogg": "video/ogg"}  # what browsers may play inline


def video_recording(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploaded recording itself, streamed with Range support: the viewer plays a clip from it when the clip
    has no video of its own (clip_video none).  Only containers a browser plays are served inline, by the container
    the file's first bytes announce (never its name)."""
    from pipeline.media.media_open import sniff
    from weblib.ranged import ranged_file_response

    video = _video(request, pk)
    path = Path(video.source_path) if video.source_path else None
    if path is None or not path.is_file():
        raise Http404("the server has no recording of this video (imported from a folder)")
    try:
        with open(path, "rb") as fh:
            container = sniff(path, fh.read(4096))
    except (OSError, PipelineError):
        raise Http404("the recording cannot be read") from None
    if container.demuxer not in PLAYABLE:
        raise Http404(f"a browser cannot play {container.label} files")
    return ranged_file_response(request, path, PLAYABLE[container.demuxer])
