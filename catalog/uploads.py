"""Resumable uploads with the tus 1.0 protocol (core, creation, termination).

The browser sends a file in chunks (PATCH at an offset); each chunk streams to
disk, so memory does not grow with file size, and a dropped connection or a
reloaded page resumes from the offset the server reports (HEAD).  A complete
upload is checked by content; an accepted file becomes a Video and a job.
"""
from __future__ import annotations

import base64
import binascii
import math
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import access
from .models import Role, Upload, Video
from .upload_check import check_upload

TUS_VERSION = "1.0.0"
PARAM_TYPES = {"min_speech": float, "max_gap": float, "min_clip": float, "max_clip": float, "vad_mode": int,
               "frame_ms": int, "smooth": str, "f0": str, "max_interp_gap": float, "pad_short_audio": str}
PARAM_CHOICES = {"vad_mode": {0, 1, 2, 3}, "frame_ms": {10, 20, 30}, "smooth": {"none", "ema", "oneeuro"},
                 "f0": {"dio", "harvest"}, "pad_short_audio": {"no", "yes"}}


def tus_response(status: int, **headers) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for key, value in headers.items():
        response[key.replace("_", "-")] = str(value)
    return response


def error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    response["Tus-Resumable"] = TUS_VERSION
    return response


def parse_metadata(header: str) -> dict[str, str]:
    values = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            values[key] = base64.b64decode(encoded).decode("utf-8") if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"metadata {key!r} is not base64 UTF-8") from None
    return values


def parse_params(values: dict[str, str]) -> dict:
    params = {}
    for key, kind in PARAM_TYPES.items():
        if values.get(key, "") == "":
            continue
        try:
            value = kind(values[key])
        except ValueError:
            raise ValueError(f"{key} must be a {kind.__name__}") from None
        if key in PARAM_CHOICES and value not in PARAM_CHOICES[key]:
            raise ValueError(f"{key} must be one of {sorted(PARAM_CHOICES[key])}")
        if kind is float and not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number")
        if kind is float and value < 0:
            raise ValueError(f"{key} must not be negative")
        params[key] = value
    if params.get("min_clip", 20.0) < 1.0:
        raise ValueError("min_clip must be at least 1 s (shorter clips are too short to train on, and a long "
                         "recording would become thousands of clips)")
    if params.get("min_clip", 20.0) >= params.get("max_clip", 180.0):
        raise ValueError("min_clip must be smaller than max_clip")
    return params


def safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip() or "video"
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base)[:200]
    return cleaned.lstrip(".") or "video"


@require_http_methods(["POST", "OPTIONS"])
def create_upload(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "OPTIONS":
        return tus_response(204, Tus_Version=TUS_VERSION, Tus_Extension="creation,termination",
                            Tus_Max_Size=settings.UPLOAD_MAX_BYTES)
    dataset = access.get_dataset(request.user, pk)
    access.require_role(request.user, dataset.team, Role.MEMBER)
    try:
        length = int(request.headers.get("Upload-Length", ""))
    except ValueError:
        return error(400, "Upload-Length header is required")
    if length <= 0:
        return error(400, "the file is empty (0 bytes)")
    if length > settings.UPLOAD_MAX_BYTES:
        return error(413, f"the file is {length / 1e9:.1f} GB; the limit is {settings.UPLOAD_MAX_BYTES / 1e9:.1f} GB")
    try:
        meta = parse_metadata(request.headers.get("Upload-Metadata", ""))
        params = parse_params(meta)
    except ValueError as exc:
        return error(400, str(exc))
    upload = Upload.objects.create(dataset=dataset, user=request.user, filename=safe_name(meta.get("filename", "")),
                                   length=length, params=params)
    upload.path.parent.mkdir(parents=True, exist_ok=True)
    upload.path.touch()
    return tus_response(201, Location=reverse("upload_resource", args=[upload.id]))


def _upload(request: HttpRequest, upload_id) -> Upload:
    upload = get_object_or_404(Upload.objects.select_related("dataset__team"), id=upload_id, user=request.user)
    access.require_role(request.user, upload.dataset.team, Role.MEMBER)
    return upload


@require_http_methods(["HEAD", "PATCH", "DELETE"])
def upload_resource(request: HttpRequest, upload_id) -> HttpResponse:
    upload = _upload(request, upload_id)
    if request.method == "HEAD":
        return tus_response(200, Upload_Offset=upload.offset, Upload_Length=upload.length)
    if request.method == "DELETE":
        upload.path.unlink(missing_ok=True)
        upload.delete()
        return tus_response(204)
    if upload.video_id or upload.error:
        return error(409, upload.error or "this upload is already complete")
    if request.content_type != "application/offset+octet-stream":
        return error(415, "PATCH needs Content-Type: application/offset+octet-stream")
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        return error(400, "Upload-Offset header is required")
    if offset != upload.offset:
        return tus_response(409, Upload_Offset=upload.offset)
    written = 0
    with open(upload.path, "r+b") as fh:
        fh.seek(offset)
        try:
            while True:
                block = request.read(1 << 20)
                if not block:
                    break
                if offset + written + len(block) > upload.length:
                    return error(400, "more bytes than Upload-Length announced")
                fh.write(block)
                written += len(block)
        finally:  # a dropped connection keeps what arrived: the client resumes from here
            fh.flush()
            os.fsync(fh.fileno())
            fh.truncate(offset + written)
            Upload.objects.filter(pk=upload.pk).update(offset=offset + written)
    upload.offset = offset + written
    if upload.offset < upload.length:
        return tus_response(204, Upload_Offset=upload.offset)
    problem = check_upload(upload.path, upload.filename)
    if problem:
        upload.path.unlink(missing_ok=True)
        Upload.objects.filter(pk=upload.pk).update(error=problem)
        return error(422, problem)
    video = accept(upload)
    response = tus_response(204, Upload_Offset=upload.offset)
    response["X-Video-URL"] = reverse("video_detail", args=[video.pk])
    return response


def accept(upload: Upload) -> Video:
    """Move the file into place, create its Video row and queue its job."""
    from jobs.service import enqueue

    with transaction.atomic():
        video = Video.objects.create(dataset=upload.dataset, original_name=upload.filename, params=upload.params,
                                     uploaded_by=upload.user, output_dir="", source_path="")
        folder = Path(settings.DATA_DIR) / "videos" / str(video.pk)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / upload.filename
        shutil.move(str(upload.path), source)
        video.source_path = str(source)
        video.output_dir = str(folder / "dataset")
        video.save(update_fields=["source_path", "output_dir"])
        upload.video = video
        upload.save(update_fields=["video"])
    enqueue(video)
    return video
