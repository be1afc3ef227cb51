"""The clip viewer: video, QC details, and the per-frame curves its charts draw (fetched as JSON)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from catalog import access
from catalog.filters import ClipFilter
from catalog.models import Clip, Tag
from catalog.redact import server_paths_hidden
from catalog.thumbnails import make_thumbnail
from pipeline.dataset.blendshape_table import read_blendshape_table
from pipeline.dataset.clip_files import PAYLOAD_ROLES
from pipeline.dataset.clip_files import ROLES as FILE_ROLES
from weblib.ranged import ranged_file_response

DEFAULT_BLENDSHAPES = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft", "eyeBlinkLeft")
DEFAULT_FEATURES = ("rms", "f0")
MAX_CURVES = 52 + 3  # every blendshape and the head pose


def _metadata(clip: Clip) -> dict:
    try:
        return json.loads(clip.file_path("metadata").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _neighbours(clip: Clip, query: QueryDict) -> tuple[Clip | None, Clip | None, int | None, int]:
    """Previous and next clip in the clip table's filtered and sorted list (the link's query), with the clip's
    position and the list's length; without a query (or with one that no longer holds this clip), by name
    within its video."""
    if query:
        form = ClipFilter.of(clip.dataset, query)
        if not form.problems():
            ids = list(form.apply(clip.dataset.clips.all()).values_list("pk", flat=True))
            if clip.pk in ids:
                at = ids.index(clip.pk)
                found = Clip.objects.in_bulk([i for i in (ids[at - 1] if at else None,
                                                          ids[at + 1] if at + 1 < len(ids) else None) if i])
                return (found.get(ids[at - 1]) if at else None,
                        found.get(ids[at + 1]) if at + 1 < len(ids) else None, at + 1, len(ids))
    siblings = Clip.objects.filter(video_id=clip.video_id).only("id", "name")
    previous = siblings.filter(name__lt=clip.name).order_by("-name").first()
    following = siblings.filter(name__gt=clip.name).order_by("name").first()
    return previous, following, None, 0


def qc_rows(quality: dict) -> list[tuple[str, str]]:
    """(label, value) of every QC registry metric measured for the clip, for the viewer's QC panel."""
    from pipeline.quality.quality import METRICS

    rows = []
    for name, metric in METRICS.items():
        value = quality.get(name)
        if value is None or name.startswith("lip_sync"):
            continue
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.4g}"
        rows.append((metric.label, f"{text} {metric.unit}".strip()))
    return rows


CURVE_GROUPS = (("mouth and jaw", ("mouth", "jaw")), ("eyes", ("eye",)), ("brows", ("brow",)),
                ("cheeks and nose", ("cheek", "nose")), ("head pose (degrees)", ("head_",)))


def curve_groups(names: list[str]) -> list[tuple[str, list[str]]]:
    """The viewer's curve choices in groups (mouth and jaw, eyes, brows, cheeks and nose, head pose, other)."""
    groups: dict[str, list[str]] = {label: [] for label, _ in CURVE_GROUPS}
    groups["other"] = []
    for name in names:
        label = next((label for label, prefixes in CURVE_GROUPS if name.startswith(prefixes)), "other")
        groups[label].append(name)
    return [(label, members) for label, members in groups.items() if members]


def lip_sync_figure(sync: dict, title: str = "Lip sync: how well the mouth follows the audio at each offset") -> dict | None:
    """The score of every offset searched against the null band (foreign audio: mean +- 2 sd at one offset) and
    the line the best offset must clear to be reliable (the null of the maximum over the whole search); None for
    a clip measured before the curve was kept."""
    offsets, scores = sync.get("curve_offsets_ms"), sync.get("curve_scores")
    if not offsets or not scores:
        return None
    mean, std = sync.get("null_mean"), sync.get("null_std")
    data = []
    if mean is not None and std is not None:
        data += [{"type": "scatter", "mode": "lines", "x": offsets, "y": [mean + 2 * std] * len(offsets),
                  "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False},
                 {"type": "scatter", "mode": "lines", "x": offsets, "y": [mean - 2 * std] * len(offsets),
                  "fill": "tonexty", "fillcolor": "rgba(90,100,117,0.2)", "line": {"width": 0},
                  "name": "someone else's audio (mean ± 2 sd)"}]
        if sync.get("threshold_z") is not None:
            data.append({"type": "scatter", "mode": "lines", "x": offsets, "y": [sync["threshold_z"] * std] * len(offsets),
                         "line": {"color": "#b35c00", "dash": "dash", "width": 1},
                         "name": "a reliable peak clears this"})
    data.append({"type": "scatter", "mode": "lines+markers", "x": offsets, "y": scores, "name": "this audio",
                 "line": {"color": "#2d5bd1"}, "marker": {"size": 4}})
    shapes = []
    if sync.get("offset_ms") is not None:
        shapes.append({"type": "line", "x0": sync["offset_ms"], "x1": sync["offset_ms"], "yref": "paper", "y0": 0,
                       "y1": 1, "line": {"color": "#1f7a3a", "dash": "dot"}})
    return {"data": data, "layout": {
        "title": {"text": title}, "height": 260, "shapes": shapes,
        "margin": {"t": 36, "r": 10, "b": 45, "l": 55}, "legend": {"orientation": "h", "y": -0.35},
        "xaxis": {"title": {"text": "offset (ms; positive: audio late)"}},
        "yaxis": {"title": {"text": "mean correlation"}}}}


def clip_detail(request: HttpRequest, pk: int) -> HttpResponse:
    clip = access.get_clip(request.user, pk)
    meta = _metadata(clip)
    role = access.role_in(request.user, clip.dataset.team)
    query = request.GET.copy()
    query.pop("page", None)
    previous, following, position, total = _neighbours(clip, query)
    curve_names = [*meta.get("blendshape_names", []), *meta.get("head_pose_names", [])]
    feature_names = [name for name in (meta.get("audio", {}).get("features") or {})]
    return render(request, "catalog/clip_detail.html", {
        "clip": clip, "meta": meta, "quality": meta.get("quality", {}), "lip_sync": meta.get("lip_sync", {}),
        "qc_rows": qc_rows(clip.quality or {}),
        "can_edit": role in (Role.MEMBER, Role.ADMIN), "tags": clip.tags.all(), "dataset_tags": clip.dataset.tags.all(),
        "previous": previous, "following": following, "position": position, "total": total,
        "list_query": query.urlencode(), "curve_groups": curve_groups(curve_names), "feature_names": feature_names,
        "head_pose_names": meta.get("head_pose_names", []),
        "lip_sync_figure": lip_sync_figure(meta.get("lip_sync") or {}),
        "default_curves": [n for n in DEFAULT_BLENDSHAPES if n in curve_names],
        "default_features": [n for n in DEFAULT_FEATURES if n in feature_names],
        "files": [(role_name, clip.files.get(role_name)) for role_name in PAYLOAD_ROLES],
        "has_video": "video" in (clip.files or {}),
    })


def read_curves(path: Path, names: list[str]) -> tuple[list[float], list[bool], dict[str, list[float | None]]]:
    """time_s, face flags and the named columns of a blendshape CSV (empty cells -> None)."""
    table = read_blendshape_table(path, names)
    return table.time_s.tolist(), table.face.tolist(), {name: _as_list(v) for name, v in table.values.items()}


def _as_list(array: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 5) for v in array]


def read_features(path: Path, names: list[str]) -> tuple[list[float], dict]:
    with np.load(path) as npz:
        times = npz["times_s"].astype(float).round(6).tolist()
        out: dict[str, object] = {}
        for name in names:
            if name not in npz.files or name in ("times_s", "sample_rate", "fps", "params"):
                continue
            data = np.asarray(npz[name], dtype=float)
            if data.ndim == 2 and data.shape[1] > 1:  # mel / mfcc: a heatmap, one row per band
                out[name] = {"z": [_as_list(row) for row in data.T]}
                continue
            series = data.reshape(-1)
            if name == "f0":
                series = np.where(series > 0, series, np.nan)  # 0 Hz means unvoiced: leave a gap
            out[name] = _as_list(series)
    return times, out


def clip_curves(request: HttpRequest, pk: int) -> JsonResponse:
    """The charts' data: chosen blendshape columns (QC-repaired, optionally raw), the quality mask, audio features."""
    clip = access.get_clip(request.user, pk)
    curves = [n for n in request.GET.get("curves", "").split(",") if n][:MAX_CURVES]
    features = [n for n in request.GET.get("features", "").split(",") if n][:20]
    qc_path, raw_path = clip.file_path("blendshapes_qc"), clip.file_path("blendshapes")
    mask_path, features_path = clip.file_path("quality_mask"), clip.file_path("audio_features")
    try:
        times, faces, values = read_curves(qc_path or raw_path, curves)
        payload: dict[str, object] = {"clip": clip.name, "time_s": times, "curves": values}
        _, raw_faces, raw = read_curves(raw_path, curves if request.GET.get("raw") else [])
        payload["face"] = raw_faces
        if request.GET.get("raw"):
            payload["raw"] = raw
        mask = np.load(mask_path) if mask_path else np.array(faces)
        payload["mask"] = [bool(v) for v in mask]
        if features:
            payload["feature_time_s"], payload["features"] = read_features(features_path, features)
    except FileNotFoundError as exc:
        missing = Path(exc.filename).name if exc.filename else "one of its files"
        return JsonResponse({"error": f"the clip's data cannot be read: {missing} is missing"}, status=404)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problem = server_paths_hidden(f"{type(exc).__name__}: {exc}", request.user, clip.video.root)
        return JsonResponse({"error": f"the clip's data files cannot be read ({problem})"}, status=404)
    return JsonResponse(payload)


def clip_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    clip = access.get_clip(request.user, pk)
    path = make_thumbnail(clip)
    if path is None:
        raise Http404("no picture for this clip")
    response = FileResponse(open(path, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_POST
def clip_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the reject flag and add or remove a tag (members and admins)."""
    clip = access.get_clip(request.user, pk)
    access.require_role(request.user, clip.dataset.team, Role.MEMBER)
    action = request.POST.get("action")
    if action in ("reject", "accept"):
        clip.rejected = action == "reject"
        clip.save(update_fields=["rejected"])
    elif action in ("tag", "untag"):
        name = request.POST.get("tag", "").strip()[:60]
        if not name:
            messages.error(request, "Give the tag a name.")
        elif action == "tag":
            tag, _ = Tag.objects.get_or_create(dataset=clip.dataset, name=name)
            clip.tags.add(tag)
        else:
            clip.tags.remove(*clip.tags.filter(name=name))
    else:
        messages.error(request, "Unknown action.")
    if request.headers.get("Accept") == "application/json":  # the viewer's keyboard and buttons: no page reload
        list(messages.get_messages(request))  # said in the response instead
        return JsonResponse({"rejected": clip.rejected, "tags": sorted(clip.tags.values_list("name", flat=True))})
    back = request.POST.get("next", "")
    if back.startswith((f"/datasets/{clip.dataset_id}/", f"/clips/{clip.pk}/")):
        return redirect(back)
    return redirect("dataset_detail", pk=clip.dataset_id)


FILE_TYPES = {role.name: role.media_type for role in FILE_ROLES}


def clip_file(request: HttpRequest, pk: int, role: str) -> HttpResponse:
    """One file of a clip (the make_dataset layout), streamed, with Range support for the video player."""
    clip = access.get_clip(request.user, pk)
    if role not in FILE_TYPES:
        raise Http404("no such file")
    path = clip.file_path(role)
    if path is None or not path.is_file():
        raise Http404("the file is missing")
    inline = role in ("video", "metadata")
    return ranged_file_response(request, path, FILE_TYPES[role], as_attachment=not inline)
