"""Start a baseline run on the report's selection, and download a trained model."""
from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from catalog import access
from catalog.filters import ClipFilter
from reports.models import BaselineRun
from weblib.errors import bad_request

COMPARED = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker")


@require_POST
def baseline_start(request: HttpRequest, pk: int) -> HttpResponse:
    from reports.baseline_job import enqueue

    dataset = access.get_dataset(request.user, pk)
    access.require_role(request.user, dataset.team, Role.MEMBER)
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    for key in ("threshold", "page", "video"):
        query.pop(key, None)
    from reports.baseline_job import blocked_reason

    reason = blocked_reason(dataset)
    if reason:
        return bad_request(request, "No baseline was started", reason,
                           [("report", reverse("dataset_report", args=[dataset.pk]))], "baseline-blocked")
    form = ClipFilter.of(dataset, query)
    if form.problems():
        return bad_request(request, "No baseline was started", f"the filter was not understood: {form.problems()}",
                           [("report", reverse("dataset_report", args=[dataset.pk]))], "filter-errors")
    active = form.active()
    label = request.POST.get("label", "").strip()[:100] or (
        "; ".join(f"{k}={v}" for k, v in active.items() if k != "sort") or "all clips")
    run = BaselineRun.objects.create(dataset=dataset, label=label, query=query.urlencode(), created_by=request.user)
    enqueue(run)
    messages.info(request, f"Training the baseline on \u201c{label}\u201d; the table below fills in when it is done.")
    return redirect(reverse("dataset_report", args=[dataset.pk]) + (f"?{query.urlencode()}" if query else "")
                    + "#baselines")


def baseline_model(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BaselineRun.objects.select_related("dataset"), pk=pk,
                            dataset__in=access.datasets_for(request.user))
    if run.status != BaselineRun.Status.DONE or not run.model_path.is_file():
        raise Http404("this run has no model")
    return FileResponse(open(run.model_path, "rb"), as_attachment=True, filename=f"baseline-{run.pk}.npz",
                        content_type="application/octet-stream")


def baseline_rows(dataset) -> list[dict]:
    """The dataset's runs, side by side: the lip-sync blendshapes' held-out correlation first."""
    rows = []
    for run in dataset.baseline_runs.all():
        metrics = run.metrics or {}
        highlight = metrics.get("highlight") or {}
        smile = [highlight.get(n, {}).get("r") for n in ("mouthSmileLeft", "mouthSmileRight")]
        smile = [v for v in smile if v is not None]
        rows.append({"run": run, "r": [highlight.get(n, {}).get("r") for n in COMPARED],
                     "smile": sum(smile) / len(smile) if smile else None,
                     "mean_r": metrics.get("mean_r"), "mean_mae": metrics.get("mean_mae"),
                     "train_clips": metrics.get("train_clips"), "train_frames": metrics.get("train_frames"),
                     "test_frames": metrics.get("frames"), "test_videos": metrics.get("test_videos") or [],
                     "test_clips": metrics.get("test_clips"), "train_videos": metrics.get("train_video_names") or [],
                     "table_url": reverse("dataset_detail", args=[dataset.pk]) + (f"?{run.query}" if run.query else "")})
    return rows


