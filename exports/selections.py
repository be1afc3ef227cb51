"""Frozen selections: save a filtered view as a named, hashed manifest; download it unchanged later.

The manifest lists each clip with its identity (id, source, name, span) and each file's path, size and
sha256 as the catalog recorded them when the selection was saved.  Later downloads stream the files
that still match; a clip deleted since, or a file whose recorded size or sha256 changed (the clip was
reprocessed or its file replaced), is listed in missing.json, never silently dropped, and the manifest
itself is served byte for byte as frozen.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from catalog import access
from catalog.filters import ClipFilter
from catalog.models import Clip
from exports.downloads import LAYOUT, ROLES, zip_response
from exports.layout import VideoFolders, clip_files, safe_part
from exports.models import Selection
from pipeline.training.trainer_layouts import LAYOUTS

# A frozen entry's values (pipeline.dataset.clip_record.SUMMARY_FIELDS): where the clip is and how it was judged.
FROZEN_FIELDS = ("source_start_s", "source_end_s", "frames", "quality_score", "lip_sync_verdict")


def freeze(clips) -> tuple[str, str, int]:
    """(manifest text, its sha256, clip count) for the clips, in the view's order."""
    entries = []
    for clip in clips:
        values = clip.summary()
        entries.append({
            "clip_id": clip.pk, "clip": clip.name, "source": clip.source_name, "video_id": clip.video_id,
            **{name: values[name] for name in FROZEN_FIELDS},
            "tags": sorted(t.name for t in clip.tags.all()), "rejected": clip.rejected,
            "files": {role: {"path": entry.get("path"), "bytes": entry.get("bytes"), "sha256": entry.get("sha256")}
                      for role, entry in sorted((clip.files or {}).items())},
        })
    text = json.dumps({"clips": entries}, indent=1, sort_keys=True) + "\n"
    return text, hashlib.sha256(text.encode()).hexdigest(), len(entries)


@require_POST
def selection_create(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = access.get_dataset(request.user, pk)
    access.require_role(request.user, dataset.team, Role.MEMBER)
    form = ClipFilter.of(dataset, request.POST)
    name = request.POST.get("selection_name", "").strip()[:200]
    if form.problems() or not name:
        messages.error(request, f"Not saved: {form.problems() or 'a selection needs a name'}.")
        return redirect("dataset_detail", pk=dataset.pk)
    clips = form.apply(dataset.clips.prefetch_related("tags")).iterator(chunk_size=500)
    text, digest, count = freeze(clips)
    selection = Selection.objects.create(dataset=dataset, name=name, filter=form.active(), clip_count=count,
                                         manifest=text, manifest_sha256=digest, created_by=request.user)
    messages.success(request, f"Saved \u201c{name}\u201d: {count} clip{'s' if count != 1 else ''}, manifest sha256 "
                              f"{digest[:16]}\u2026; its link stays the same.")
    return redirect("selection_detail", key=selection.key)


def _selection(request: HttpRequest, key) -> Selection:
    return get_object_or_404(Selection.objects.select_related("dataset__team"), key=key,
                             dataset__in=access.datasets_for(request.user))


def current_state(selection: Selection) -> tuple[list[dict], list[dict], dict[int, Clip]]:
    """The frozen entries, what of them is missing now (clip deleted, or a file no longer the frozen one),
    and the clip rows that still exist, by id."""
    entries = json.loads(selection.manifest)["clips"]
    rows = Clip.objects.filter(pk__in=[e["clip_id"] for e in entries]).select_related("video") \
        .prefetch_related("tags").in_bulk()
    missing = []
    for entry in entries:
        clip = rows.get(entry["clip_id"])
        if clip is None:
            missing.append({"clip_id": entry["clip_id"], "clip": entry["clip"], "source": entry["source"],
                            "problem": "the clip was deleted or reprocessed since"})
            continue
        for role, frozen in entry["files"].items():
            now = (clip.files or {}).get(role) or {}
            path = clip.file_path(role)
            if (now.get("sha256"), now.get("bytes")) != (frozen["sha256"], frozen["bytes"]) or path is None \
                    or not path.is_file() or path.stat().st_size != frozen["bytes"]:
                missing.append({"clip_id": entry["clip_id"], "clip": entry["clip"], "source": entry["source"],
                                "file": role, "problem": "the file changed or is gone since"})
    return entries, missing, rows


def selection_detail(request: HttpRequest, key) -> HttpResponse:
    selection = _selection(request, key)
    entries, missing, _ = current_state(selection)
    return render(request, "catalog/selection_detail.html", {
        "training_formats": [(k, v[1]) for k, v in LAYOUTS.items() if k != "facecrops"],
        "selection": selection, "entries": entries[:500], "missing": missing,
        "missing_clips": {m["clip_id"] for m in missing}})


def selection_download(request: HttpRequest, key) -> HttpResponse:
    selection = _selection(request, key)
    entries, missing, rows = current_state(selection)
    broken = {(m["clip_id"], m.get("file")) for m in missing}
    top = safe_part(f"{selection.dataset.name}-{selection.name}")

    def files() -> Iterator[tuple[str, object]]:
        yield f"{top}/manifest.json", selection.manifest.encode()  # byte for byte as frozen
        folders = VideoFolders(top)
        for entry in entries:
            clip = rows.get(entry["clip_id"])
            if clip is None or (entry["clip_id"], None) in broken:
                continue
            folder = folders.of(entry["video_id"], entry["source"])
            # the frozen files (their paths are the manifest's, under this folder), and the clip's metadata
            roles = [r for r in ROLES if (r in entry["files"] or r == "metadata") and (entry["clip_id"], r) not in broken]
            for _role, name, path in clip_files(clip, folder, roles):
                if path is not None:
                    yield name, path
        about = {"selection": selection.name, "dataset": selection.dataset.name, "key": str(selection.key),
                 "manifest_sha256": selection.manifest_sha256, "saved": selection.created.isoformat(),
                 "filter": selection.filter, "downloaded": timezone.now().isoformat(), "missing": missing,
                 "layout": LAYOUT, "folders": folders.names()}
        yield f"{top}/selection.json", json.dumps(about, indent=1, default=str).encode()

    return zip_response(files(), f"{top}.zip")


def selection_training_download(request: HttpRequest, key) -> HttpResponse:
    """The frozen clips that still match the selection, as a Parquet training export; the others are listed."""
    from exports.training import parse_layout, parse_seed, training_zip

    selection = _selection(request, key)
    try:
        seed = parse_seed(request.GET.get("seed"))
    except ValueError:
        return HttpResponse("seed: a whole number from 0 is needed\n", status=400,
                            content_type="text/plain; charset=utf-8")
    layout, fps, problems = parse_layout(request.GET)
    if problems:
        return HttpResponse("; ".join(problems) + "\n", status=400, content_type="text/plain; charset=utf-8")
    entries, missing, rows = current_state(selection)
    broken = {m["clip_id"] for m in missing}
    order = [e["clip_id"] for e in entries if e["clip_id"] not in broken]
    describe = {"selection": selection.name, "selection_key": str(selection.key),
                "selection_manifest_sha256": selection.manifest_sha256, "filter": selection.filter,
                "selection_missing": missing}
    return training_zip(request, selection.dataset, (rows[i] for i in order if i in rows), seed,
                        f"{safe_part(selection.dataset.name)}-{safe_part(selection.name)}-training-{layout}", describe,
                        layout, fps)
