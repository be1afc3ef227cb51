"""Interactive quality reports per dataset and per video (Plotly, figures aggregated in reports.data)."""
from __future__ import annotations

import numpy as np
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Role
from catalog import access
from catalog.filters import METRICS, ClipFilter
from catalog.models import Dataset, Video
from catalog.redact import server_paths_hidden
from reports.baseline_job import blocked_reason
from reports.baseline_views import COMPARED, baseline_rows
from reports.data import (
    HISTOGRAMS,
    LOWEST_MAX,
    POINTS_MAX,
    Links,
    below_threshold_figure,
    dropped_by_video_figure,
    face_rate_timeline_figure,
    histogram_figure,
    lowest_clips,
    lowest_ids,
    report_columns,
    score_vs_duration_figure,
    verdict_figure, recording_offsets_figure,
)
from weblib.errors import bad_request

DEFAULT_THRESHOLD = 60.0  # make_dataset's default --quality_threshold
# The component histograms, in page order, with their titles.
COMPONENTS = {"valid": "Valid-frame rate", "range": "Range validity",
              "face": "Face-frame rate", "speech": "Speech ratio", "avlag": "Lip-sync offset (ms, + = audio late)",
              "corr": "Lip-sync confidence (z against shifted audio)",
              # every metric of the QC registry, a lab's own included
              **{key: metric.label for key, metric in METRICS.items() if metric.in_json},
              "smooth": "Smoothness (the seed's score component)", "duration": "Duration (s)"}
assert set(COMPONENTS) <= set(HISTOGRAMS)


def dataset_report(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = access.get_dataset(request.user, pk)
    return _report(request, dataset, None)


def video_report(request: HttpRequest, pk: int) -> HttpResponse:
    video = access.get_video(request.user, pk)
    return _report(request, video.dataset, video)


def threshold_problem(request: HttpRequest) -> str:
    """Why ``?threshold=`` is not a score from 0 to 100 ("" when it is, or when it is not given)."""
    text = request.GET.get("threshold", "")
    if text == "":
        return ""
    try:
        value = float(text)
    except ValueError:
        return f"threshold: {text[:40]!r} is not a number"
    return "" if 0 <= value <= 100 else "threshold: a score from 0 to 100 is needed"


def _threshold(request: HttpRequest, videos: list[Video]) -> float:
    try:
        value = float(request.GET["threshold"])
        if 0 <= value <= 100:
            return value
    except (KeyError, ValueError):
        pass
    for video in videos:
        stored = (video.report.get("params") or {}).get("quality_threshold")
        if isinstance(stored, (int, float)):
            return float(stored)
    return DEFAULT_THRESHOLD


def _dropped_summary(videos: list[Video]) -> list[dict]:
    rows = []
    for video in videos:
        dropped = video.report.get("dropped_segments") or []
        rows.append({"id": video.pk, "name": video.source_name, "dropped": len(dropped),
                     "dropped_s": sum(float(d.get("duration_s", 0)) for d in dropped),
                     "failed": len(video.report.get("failed_clips") or [])})
    return rows


def _report(request: HttpRequest, dataset: Dataset, video: Video | None) -> HttpResponse:
    all_videos = list(dataset.videos.order_by("source_name", "id"))
    query = request.GET.copy()
    if video:
        query["video"] = str(video.pk)
    form = ClipFilter(query, videos=all_videos)
    problems = "; ".join(filter(None, [form.problems(), threshold_problem(request)]))
    if problems:  # a report of every clip (or at another threshold) would pass for the one asked for
        return bad_request(request, f"Quality report: {dataset.name}",
                           "The filter in this link was not understood, so no report is shown (a report of every clip "
                           f"would pass for the filtered one): {problems}.",
                           [("Report for every clip", reverse("dataset_report", args=[dataset.pk])),
                            ("clip table", reverse("dataset_detail", args=[dataset.pk]))], "filter-errors")
    chosen = form.cleaned_data.get("video")
    videos = [v for v in all_videos if chosen is None or v.pk == chosen]
    clips = form.restrict(dataset.clips.all())
    narrowed = {k: v for k, v in form.active().items() if k not in ("sort", "video") and (k, v) != ("rejected", "exclude")}
    if narrowed:  # dropped segments and failed clips are counted for the videos the filter keeps, not all
        kept = set(clips.order_by().values_list("video_id", flat=True).distinct())
        videos = [v for v in videos if v.pk in kept]
    columns = report_columns(dataset, clips, restricted=bool(narrowed) or chosen is not None)
    threshold = _threshold(request, videos)
    links = Links(reverse("clip_detail", args=[0]).replace("/0/", "/{}/"), reverse("dataset_detail", args=[dataset.pk]),
                  {k: v for k, v in query.items() if v != ""})
    under, low_ids = lowest_clips(columns, threshold)
    names = _point_names(clips, columns, low_ids)
    dropped_rows = _dropped_summary(videos)
    return render(request, "reports/report.html", {
        "dataset": dataset, "video": video, "form": form, "threshold": threshold,
        "active": {k: v for k, v in form.active().items() if k not in ("sort", "video") and (k, v) != ("rejected", "exclude")},
        "summary": _summary(columns, under, links.table(score=(0.0, threshold, False)), dropped_rows),
        "figures": _figures(columns, links, names, threshold, low_ids, video, dropped_rows,
                            dict(clips.order_by().values_list("lip_sync_verdict").annotate(n=Count("id"))), videos),
        "lowest": _lowest_rows(clips, low_ids[:50], names, links),
        "dropped_rows": [r for r in dropped_rows if r["dropped"] or r["failed"]][:100],
        "dropped_segments": video.report.get("dropped_segments") or [] if video else [],
        "failed_clips": [{**f, "reason": server_paths_hidden(str(f.get("reason", "")), request.user, video.root)}
                         for f in video.report.get("failed_clips") or []] if video else [],
        "shots": ((video.report or {}).get("shots") or {}).get("boundaries") or [] if video else [],
        "shot_rows": [{"id": v.pk, "name": v.source_name, "cuts": (v.report.get("shots") or {}).get("cuts", 0),
                       "gradual": (v.report.get("shots") or {}).get("gradual", 0)}
                      for v in videos if (v.report.get("shots") or {}).get("boundaries")][:100],
        "table_url": links.table(),
        "baselines": baseline_rows(dataset) if video is None else [],
        "compared": COMPARED, "query": request.GET.urlencode(),
        "can_train": video is None and access.role_in(request.user, dataset.team) in (Role.MEMBER, Role.ADMIN),
        "baseline_blocked": blocked_reason(dataset) if video is None else None,
    })


def _lowest_rows(clips, ids, names: dict[int, str], links: Links) -> list[dict]:
    """The lowest-scoring clips with their score and, in words, why they lose points."""
    found = {pk: (score, why) for pk, score, why in
             clips.filter(id__in=[int(i) for i in ids]).order_by().values_list("id", "quality_score", "quality_reasons")}
    return [{"name": names.get(int(i), ""), "url": links.clip(i), "score": found.get(int(i), (None, []))[0],
             "reasons": "; ".join(found.get(int(i), (None, []))[1] or [])} for i in ids]


def _point_names(clips, columns, low_ids) -> dict[int, str]:
    """"video/clip" labels of the clips drawn as points: all of them when few, else the lowest-scoring."""
    if len(columns) > POINTS_MAX:
        clips = clips.filter(id__in=[*low_ids.tolist(), *lowest_ids(columns, LOWEST_MAX).tolist()])
    return {pk: f"{source}/{name}" for pk, source, name in clips.order_by().values_list("id", "source_name", "name")}


def _figures(columns, links: Links, names: dict[int, str], threshold: float, low_ids, video: Video | None,
             dropped_rows: list[dict], verdicts: dict[str, int], videos=()) -> list[tuple[str, dict]]:
    dropped_segments = video.report.get("dropped_segments") or [] if video else None
    figures = [("score", histogram_figure(columns, "score", links, "Quality score distribution", threshold)),
               ("score-duration", score_vs_duration_figure(columns, links, names)),
               ("face-timeline", face_rate_timeline_figure(columns, links, names, dropped_segments, per_clip=bool(video))),
               ("under", below_threshold_figure(columns, low_ids, links, names, threshold)),
               ("verdicts", verdict_figure(verdicts, links))]
    if not video:
        figures.append(("recording-offsets", recording_offsets_figure([v.report for v in videos])))
    figures += [(f"hist-{key}", histogram_figure(columns, key, links, title)) for key, title in COMPONENTS.items()]
    if not video and any(r["dropped"] for r in dropped_rows):
        video_url = reverse("video_report", args=[0]).replace("/0/", "/{}/")
        figures.append(("dropped", dropped_by_video_figure(dropped_rows, video_url)))
    return figures


def _summary(columns, under: int, under_url: str, dropped_rows: list[dict]) -> dict:
    score, seconds = columns["quality_score"], float(np.nansum(columns["duration_s"]))
    return {
        "clips": len(columns), "hours": seconds / 3600, "minutes": seconds / 60,
        "mean": float(np.nanmean(score)) if len(score) else None,
        "median": float(np.nanmedian(score)) if len(score) else None,
        "under": under, "under_url": under_url,
        "dropped": sum(r["dropped"] for r in dropped_rows), "dropped_s": sum(r["dropped_s"] for r in dropped_rows),
        "failed": sum(r["failed"] for r in dropped_rows),
    }
