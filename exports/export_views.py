"""Start a background training export (face-crop videos), follow it, download its zip."""
from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import access
from catalog.filters import ClipFilter
from exports.models import ExportJob
from pipeline.training.face_crops import SIZES
from weblib.errors import bad_request

BACKGROUND_LAYOUTS = ("facecrops",)  # layouts too slow to stream while the browser waits


@require_POST
def export_job_start(request: HttpRequest, pk: int) -> HttpResponse:
    from exports.export_job import enqueue

    dataset = access.get_dataset(request.user, pk)
    back = [("clip table", reverse("dataset_detail", args=[dataset.pk]))]
    layout = request.POST.get("format", "facecrops")
    size = request.POST.get("crop_size", "256")
    if layout not in BACKGROUND_LAYOUTS or not size.isdigit() or int(size) not in SIZES:
        return bad_request(request, "No export was started",
                           f"format: {', '.join(BACKGROUND_LAYOUTS)}; crop size: {', '.join(map(str, SIZES))} px",
                           back, "export-errors")
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("page", None)
    form = ClipFilter.of(dataset, query)
    if form.problems():
        return bad_request(request, "No export was started", f"the filter was not understood: {form.problems()}",
                           back, "filter-errors")
    busy = ExportJob.objects.filter(created_by=request.user, status__in=[ExportJob.Status.QUEUED,
                                                                        ExportJob.Status.RUNNING]).first()
    if busy is not None:
        return bad_request(request, "No export was started", "you have an export being made already: wait for it "
                           "to finish", [("that export", reverse("export_job_detail", args=[busy.pk]))], "export-busy")
    clips = form.apply(dataset.clips.all()).count()
    job = ExportJob.objects.create(dataset=dataset, layout=layout, options={"crop_size": int(size)},
                                   query=query.urlencode(), clips=clips, created_by=request.user)
    enqueue(job)
    messages.info(request, f"Making face-crop videos of {clips} clip{'s' if clips != 1 else ''} in the background.")
    return redirect("export_job_detail", pk=job.pk)


def _job(request: HttpRequest, pk: int) -> ExportJob:
    return get_object_or_404(ExportJob.objects.select_related("dataset"), pk=pk,
                             dataset__in=access.datasets_for(request.user))


def export_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "exports/export_job.html", {"job": job, "working": job.status in (
        ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)})


def export_job_file(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status != ExportJob.Status.DONE or not job.zip_path.is_file():
        raise Http404("this export has no file (yet)")
    from exports.export_job import job_top

    return FileResponse(open(job.zip_path, "rb"), as_attachment=True, filename=f"{job_top(job)}.zip",
                        content_type="application/zip")
