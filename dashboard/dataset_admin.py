"""Datasets managed from the dashboard: members create them, a team's admins rename, describe and delete them."""
from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat, pluralize
from django.views.decorators.http import require_POST

from accounts.models import Role
from catalog import access
from catalog.models import Dataset, Video

NAME_MAX = 200


@require_POST
def dataset_create(request: HttpRequest) -> HttpResponse:
    team = get_object_or_404(access.teams_for(request.user, Role.MEMBER), pk=access.posted_id(request.POST.get("team"), "team"))
    name = request.POST.get("name", "").strip()
    if not name or len(name) > NAME_MAX:
        messages.error(request, f"A dataset needs a name of 1 to {NAME_MAX} characters.")
        return redirect("home")
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(team=team, name=name, created_by=request.user,
                                             description=request.POST.get("description", "").strip())
    except IntegrityError:
        messages.error(request, f"{team.name} already has a dataset named \u201c{name}\u201d.")
        return redirect("home")
    messages.success(request, f"Created {name}: upload recordings into it below.")
    return redirect("dataset_detail", pk=dataset.pk)


def dataset_settings(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = access.get_dataset(request.user, pk)
    access.require_role(request.user, dataset.team, Role.ADMIN)
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name or len(name) > NAME_MAX:
            messages.error(request, f"A dataset needs a name of 1 to {NAME_MAX} characters.")
        else:
            try:
                with transaction.atomic():
                    Dataset.objects.filter(pk=dataset.pk).update(
                        name=name, description=request.POST.get("description", "").strip())
            except IntegrityError:
                messages.error(request, f"{dataset.team.name} already has a dataset named \u201c{name}\u201d.")
            else:
                messages.success(request, "Saved.")
                return redirect("dataset_detail", pk=dataset.pk)
    return render(request, "catalog/dataset_settings.html", {"dataset": dataset, **deletion_summary(dataset)})


def deletion_summary(dataset: Dataset) -> dict:
    from jobs.service import folder_bytes, video_folder

    videos = list(dataset.videos.all())
    return {"videos": len(videos), "clips": dataset.clips.count(),
            "bytes": sum(folder_bytes(video_folder(v)) for v in videos),
            "busy": [v for v in videos if v.status in (Video.Status.QUEUED, Video.Status.RUNNING) or v.run_token]}


@require_POST
def dataset_delete(request: HttpRequest, pk: int) -> HttpResponse:
    from jobs.service import Refused, delete_video

    dataset = access.get_dataset(request.user, pk)
    access.require_role(request.user, dataset.team, Role.ADMIN)
    summary = deletion_summary(dataset)
    if summary["busy"]:
        messages.error(request, "Not deleted: cancel the jobs of " + ", ".join(v.source_name for v in summary["busy"])
                       + " first.")
        return redirect("dataset_settings", pk=dataset.pk)
    try:
        for video in dataset.videos.all():
            delete_video(video)
    except Refused as exc:
        messages.error(request, f"Not deleted: a job started meanwhile ({exc}).")
        return redirect("dataset_settings", pk=dataset.pk)
    name = dataset.name
    dataset.delete()
    messages.success(request, f"Deleted {name}: {summary['videos']} video{pluralize(summary['videos'])}, "
                              f"{summary['clips']} clip{pluralize(summary['clips'])}, "
                              f"{filesizeformat(summary['bytes'])} of files.")
    return redirect("home")
