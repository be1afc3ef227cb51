from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog import access
from catalog.models import Role
from catalog.redact import server_paths_hidden

from . import service


def _video(request: HttpRequest, pk: int, min_role: str = Role.VIEWER):
    video = get_object_or_404(access.videos_for(request.user).select_related("dataset__team"), pk=pk)
    if min_role != Role.VIEWER:
        access.require_role(request.user, video.dataset.team, min_role)
    return video


def video_error(video, user) -> str:
    return server_paths_hidden(video.error, user, Path(video.source_path).parent if video.source_path else "")


def video_status_data(video, user) -> dict:
    return {"id": video.pk, "status": video.status, "stage": video.stage, "clips_done": video.clips_done,
            "clips_total": video.clips_total, "error": video_error(video, user), "attempts": video.attempts,
            "heartbeat": video.heartbeat.isoformat() if video.heartbeat else None}


def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    video = _video(request, pk)
    role = access.role_in(request.user, video.dataset.team)
    lowest = video.clips.order_by("quality_score", "name").only("id", "name", "quality_score", "quality_reasons")[:10]
    return render(request, "jobs/video_detail.html", {"video": video, "status": video_status_data(video, request.user),
                                                      "error": video_error(video, request.user),
                                                      "can_edit": role in (Role.MEMBER, Role.ADMIN),
                                                      "lowest": [c for c in lowest if c.quality_reasons]})


def video_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the video page every two seconds."""
    return JsonResponse(video_status_data(_video(request, pk), request.user))


@require_POST
def video_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    video = _video(request, pk, Role.MEMBER)
    if not service.cancel(video):
        messages.info(request, "Only a queued or running job can be cancelled.")
    return redirect("video_detail", pk=video.pk)


@require_POST
def video_retry(request: HttpRequest, pk: int) -> HttpResponse:
    video = _video(request, pk, Role.MEMBER)
    if not service.retry(video):
        messages.info(request, "Only a failed or cancelled job can be retried.")
    return redirect("video_detail", pk=video.pk)
