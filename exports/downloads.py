"""Download exactly the clips of a filtered view as one streamed zip, with a manifest."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from catalog import access
from catalog.filters import ClipFilter
from catalog.models import Clip
from exports.layout import VideoFolders, clip_files, safe_part
from exports.zipstream import stream_zip
from pipeline.dataset.clip_files import ROLE_NAMES
from pipeline.dataset.clip_files import ROLES as FILE_ROLES
from pipeline.quality.quality import METRICS as QC_METRICS
from weblib.errors import bad_request

ROLES = ROLE_NAMES  # pipeline.dataset.clip_files.ROLES: one list of a clip's files
ROLE_LABELS = {role.name: role.label for role in FILE_ROLES}
LAYOUT = ("each source video is a folder laid out as make_dataset writes one: clips/<clip>.mp4 and "
          "data/<clip>_*; a manifest's folder is the clip's video folder")
MANIFEST_FIELDS = ("clip", "source", "source_start_s", "source_end_s", "duration_s", "frames", "face_rate",
                   "quality_score", "valid_rate", "smoothness", "range_validity", "lip_sync_offset_ms",
                   "lip_sync_confidence", "lip_sync_verdict", "face_speaking", "speech_ratio", "quality_reasons",
                   *(f"quality.{name}" for name in QC_METRICS if not name.startswith("lip_sync")), "tags", "folder")


def spreadsheet_safe(value):
    """A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def clip_row(clip: Clip, folder: str) -> dict:
    """The clip's line in the zip's manifest.csv (MANIFEST_FIELDS), from its summary."""
    values = clip.summary()
    quality = values["quality"] or {}
    row = {"clip": clip.name, "source": clip.source_name, **values, "face_rate": round(values["face_rate"], 4),
           "quality_reasons": "; ".join(values["quality_reasons"] or []),
           **{f"quality.{name}": quality.get(name) for name in QC_METRICS},
           "tags": ";".join(sorted(t.name for t in clip.tags.all())), "folder": folder}
    return {name: row[name] for name in MANIFEST_FIELDS}


def download(request: HttpRequest, pk: int) -> HttpResponse:
    """GET with the clip table's filter (and ?files=video,blendshapes,... to choose files): a streamed zip."""
    dataset = access.get_dataset(request.user, pk)
    form = ClipFilter.of(dataset, request.GET)
    asked = [r for value in request.GET.getlist("files") for r in value.split(",") if r]  # files=a,b or files=a&files=b
    unknown = sorted(set(asked) - set(ROLES))
    problems = "; ".join(filter(None, [form.problems(), unknown and f"files: unknown {', '.join(unknown)} "
                                                                    f"(choose from {', '.join(ROLES)})"]))
    if problems:  # never "every clip" or "every file" because one parameter was not understood
        return bad_request(request, "Nothing was downloaded", f"the filter was not understood: {problems}",
                           [("clip table", reverse("dataset_detail", args=[dataset.pk]))], "filter-errors")
    clips = form.apply(dataset.clips.select_related("video").prefetch_related("tags"))
    wanted = [r for r in ROLES if r in asked] or list(ROLES)
    top = safe_part(dataset.name)

    def entries() -> Iterator[tuple[str, object]]:
        rows, lines, missing = [], [], []
        folders = VideoFolders(top)
        for clip in clips.iterator(chunk_size=500):
            folder = folders.of(clip.video_id, clip.source_name)
            sent = {}
            for role, name, path in clip_files(clip, folder, wanted):
                if path is not None:
                    yield name, path
                    sent[role] = {"path": name[len(folder) + 1:], "sha256": (clip.files.get(role) or {}).get("sha256")}
                else:  # deleted from disk behind the catalog's back: say so, never leave it out silently
                    missing.append(name)
            rows.append(clip_row(clip, folder))
            # a file an older clip never had (the face data before it existed, say) is named, never just left out
            absent = [r for r in wanted if r != "metadata" and r not in (clip.files or {})]
            why = {"video": "not kept: the video was made with clip_video none (play the recording at the clip's "
                            "span)"} if "video" in absent and (clip.video.params or {}).get("clip_video") == "none" else {}
            lines.append(json.dumps({**rows[-1], "files": sent, **({"absent": absent} if absent else {}),
                                     **({"absent_why": why} if why else {})}) + "\n")
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows([{k: spreadsheet_safe(v) for k, v in row.items()} for row in rows])
        yield f"{top}/manifest.csv", text.getvalue().encode()
        yield f"{top}/manifest.jsonl", "".join(lines).encode()
        selection = {"dataset": dataset.name, "team": dataset.team.name, "clips": len(rows), "files": wanted,
                     "layout": LAYOUT, "folders": folders.names(),
                     "filter": form.active(), "created": timezone.now().isoformat(), "by": request.user.get_username(),
                     "missing_files": missing}
        yield f"{top}/selection.json", json.dumps(selection, indent=1, default=str).encode()

    return zip_response(entries(), f"{top}-{timezone.now():%Y%m%d-%H%M%S}.zip")


def zip_response(entries, filename: str) -> StreamingHttpResponse:
    """A zip of ``entries`` ((name, path or bytes), ...) written while it is sent."""
    response = StreamingHttpResponse(stream_zip(entries), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
