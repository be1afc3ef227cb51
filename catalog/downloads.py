"""Download exactly the clips of a filtered view as one streamed zip, with a manifest."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from . import access
from .filters import ClipFilter
from .models import Clip
from .zipstream import stream_zip

ROLES = ("video", "audio", "blendshapes", "blendshapes_qc", "audio_features", "quality_mask", "metadata")
MANIFEST_FIELDS = ("clip", "source", "source_start_s", "source_end_s", "duration_s", "frames", "face_rate",
                   "quality_score", "valid_rate", "smoothness", "range_validity", "av_lag_ms", "av_correlation",
                   "av_sync_weak", "speech_ratio", "tags", "folder")


def safe_part(text: str) -> str:
    """A path component that cannot climb out of its folder or surprise an unzip tool."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"
    return cleaned[:120]


def clip_row(clip: Clip, folder: str) -> dict:
    return {"clip": clip.name, "source": clip.source_name, "source_start_s": clip.source_start_s,
            "source_end_s": clip.source_end_s, "duration_s": clip.duration_s, "frames": clip.frames,
            "face_rate": round(clip.face_rate, 4), "quality_score": clip.quality_score, "valid_rate": clip.valid_rate,
            "smoothness": clip.smoothness, "range_validity": clip.range_validity, "av_lag_ms": clip.av_lag_ms,
            "av_correlation": clip.av_correlation, "av_sync_weak": clip.av_sync_weak, "speech_ratio": clip.speech_ratio,
            "tags": ";".join(sorted(t.name for t in clip.tags.all())), "folder": folder}


def download(request: HttpRequest, pk: int) -> HttpResponse:
    """GET with the clip table's filter (and ?files=video,blendshapes,... to choose files): a streamed zip."""
    dataset = access.get_dataset(request.user, pk)
    form = ClipFilter(request.GET or None, videos=list(dataset.videos.all()))
    clips = form.apply(dataset.clips.select_related("video").prefetch_related("tags"))
    wanted = [r for r in request.GET.get("files", ",".join(ROLES)).split(",") if r in ROLES] or list(ROLES)
    top = safe_part(dataset.name)

    def entries() -> Iterator[tuple[str, object]]:
        rows = []
        for clip in clips.iterator(chunk_size=500):
            folder = f"{top}/{safe_part(clip.source_name.rsplit('.', 1)[0])}/{safe_part(clip.name)}"
            for role in wanted:
                if role == "metadata":
                    path = clip.video.root / "data" / f"{clip.name}_metadata.json"
                else:
                    path = clip.file_path(role)
                if path is not None and path.is_file():
                    yield f"{folder}/{safe_part(path.name)}", path
            rows.append(clip_row(clip, folder))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        yield f"{top}/manifest.csv", text.getvalue().encode()
        yield f"{top}/manifest.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode()
        selection = {"dataset": dataset.name, "team": dataset.team.name, "clips": len(rows), "files": wanted,
                     "filter": form.active(), "created": timezone.now().isoformat(), "by": request.user.get_username()}
        yield f"{top}/selection.json", json.dumps(selection, indent=1, default=str).encode()

    response = StreamingHttpResponse(stream_zip(entries()), content_type="application/zip")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{top}-{stamp}.zip"'
    response["Cache-Control"] = "no-store"
    return response
