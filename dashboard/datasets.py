from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Role
from catalog import access
from catalog.filters import SORTABLE, ClipFilter
from catalog.models import Video
from exports.downloads import ROLE_LABELS
from exports.export_views import BACKGROUND_LAYOUTS
from exports.training import split_warning
from pipeline.training.resample import EXPORT_FPS
from pipeline.training.trainer_layouts import LAYOUTS
from jobs.system_status import model_status, worker_status
from uploads.form import UploadParamsForm

PAGE_SIZE = 50


def home(request: HttpRequest) -> HttpResponse:
    """The user's datasets with counts, speech hours, mean score and processing status."""
    datasets = list(
        access.datasets_for(request.user).select_related("team").annotate(
            n_clips=Count("clips", filter=Q(clips__rejected__in=[False])),
            seconds=Sum("clips__duration_s", filter=Q(clips__rejected__in=[False])),
            mean_score=Avg("clips__quality_score", filter=Q(clips__rejected__in=[False])),
        ).order_by("team__name", "name")
    )
    statuses: dict[int, dict[str, int]] = {}
    for row in Video.objects.filter(dataset__in=[d.pk for d in datasets]).values("dataset_id", "status").annotate(n=Count("id")):
        statuses.setdefault(row["dataset_id"], {})[row["status"]] = row["n"]
    for dataset in datasets:
        dataset.hours = (dataset.seconds or 0) / 3600
        dataset.video_status = statuses.get(dataset.pk, {})
    return render(request, "catalog/home.html", {"datasets": datasets, "teams": access.teams_for(request.user).order_by("name"),
                                                 "member_teams": access.teams_for(request.user, Role.MEMBER).order_by("name"),
                                                 "model": model_status(), "worker": worker_status()})


VIDEO_BULK_FIELDS = ("report", "carry_over", "params", "shared_footage")


def clip_url_patterns() -> dict[str, str]:
    """Each per-clip link of the table, reversed once with a placeholder id (the ``for_clip`` filter fills it
    in): reversing nine URLs for each of 50 rows took a third of the page's time."""
    from catalog.templatetags.catalog_tags import CLIP_PLACEHOLDER as pk

    urls = {"detail": reverse("clip_detail", args=[pk]), "thumbnail": reverse("clip_thumbnail", args=[pk]),
            "update": reverse("clip_update", args=[pk])}
    urls.update({role: reverse("clip_file", args=[pk, role])
                 for role in ("video", "blendshapes", "audio", "audio_features", "metadata")})
    return urls


def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The clip table: filter, sort and page through the dataset's clips; the filter lives in the URL."""
    from jobs.why import shortfall

    dataset = access.get_dataset(request.user, pk)
    videos = list(dataset.videos.all())
    for video in videos:
        video.why = shortfall(video)
    form = ClipFilter(request.GET or None, videos=videos)
    problems = form.problems()  # a filter that is not understood shows nothing, never every clip
    # the row shows the video's name: its report and settings (large JSON) are not loaded 50 times
    rows = dataset.clips.select_related("video").defer("files", *(f"video__{f}" for f in VIDEO_BULK_FIELDS))
    clips = dataset.clips.none() if problems else form.apply(rows.prefetch_related("tags"))
    page = Paginator(clips, PAGE_SIZE).get_page(request.GET.get("page"))
    query = QueryDict(mutable=True)  # the filter as it stands, without the form's empty fields
    for key, values in request.GET.lists():
        if key != "page":
            query.setlist(key, [v for v in values if v != ""])
    for key in [k for k, v in query.lists() if not v]:
        del query[key]
    sort_query = query.copy()
    sort_query.pop("sort", None)
    current_sort = form.cleaned_data.get("sort", "name") if form.is_bound and form.is_valid() else "name"
    role = access.role_in(request.user, dataset.team)
    return render(request, "catalog/dataset_detail.html", {
        "dataset": dataset, "form": form, "page": page, "query": query.urlencode(),
        "sort_query": sort_query.urlencode(), "current_sort": current_sort, "sortable": SORTABLE,
        "can_edit": role in (Role.MEMBER, Role.ADMIN), "tags": dataset.tags.all(), "videos": videos,
        "upload_form": UploadParamsForm(auto_id="upload_%s"), "chunk_bytes": settings.UPLOAD_CHUNK_BYTES,
        "more_filters_active": any(f.value() not in (None, "") for f in form.secondary_fields()),
        "query_items": [(k, v) for k, values in query.lists() if k != "files" for v in values],
        "download_roles": ROLE_LABELS.items(), "filter_problems": problems, "is_admin": role == Role.ADMIN,
        "selections": dataset.selections.all()[:50], "clip_urls": clip_url_patterns(),
        "dataset_clips": dataset.clips.count(),
        "training_formats": [(k, v[1]) for k, v in LAYOUTS.items() if k not in BACKGROUND_LAYOUTS], "export_fps": EXPORT_FPS,
        "split_warning": split_warning(videos),
    }, status=400 if problems else 200)


def dataset_video_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the dataset page (video_list.js) while a job is queued or running: every video (those uploaded
    since the page was drawn too), why a finished one kept few clips, and how many clips the dataset has."""
    from jobs.why import shortfall

    dataset = access.get_dataset(request.user, pk)
    videos = []
    for v in dataset.videos.defer("carry_over"):
        why = shortfall(v)
        videos.append({"id": v.pk, "name": v.source_name, "url": reverse("video_detail", args=[v.pk]),
                       "status": v.status, "label": v.get_status_display(), "clips_done": v.clips_done,
                       "clips_total": v.clips_total, "why": why.sentence if why else ""})
    return JsonResponse({"videos": videos, "clips": dataset.clips.count()})
