"""Resumable uploads with the tus 1.0 protocol (core, creation, termination).

The browser sends a file in chunks (PATCH at an offset); each chunk streams to
disk, so memory does not grow with file size, and a dropped connection or a
reloaded page resumes from the offset the server reports (HEAD).  A complete
upload is checked by content; an accepted file becomes a Video and a job.
"""
from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import os
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from catalog import access
from catalog.models import Video
from pipeline.dataset import options
from uploads import hashing as upload_hash
from uploads.checks import check_upload
from uploads.models import Upload, UploadRefusal

TUS_VERSION = "1.0.0"
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
    """The build options (and ``duplicate``) in an upload's tus metadata, checked (pipeline.dataset.options)."""
    return options.parse(values, options.UPLOADED)


RECORDING_NAME = "recording"  # an upload's file in its video folder; the user's name is Video.source_name
MAX_NAME_BYTES = 120  # file systems allow 255 bytes per name; the clips' names add a suffix to the stem


def safe_name(name: str) -> str:
    """A file name that is safe on disk: no folders, no odd characters, at most MAX_NAME_BYTES in UTF-8."""
    base = os.path.basename(name.replace("\\", "/")).strip() or "video"
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in base).lstrip(".") or "video"
    if len(cleaned.encode()) <= MAX_NAME_BYTES:
        return cleaned
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or len(suffix.encode()) > 10:
        stem, suffix = cleaned, ""
    room = MAX_NAME_BYTES - len(suffix.encode()) - (1 if suffix else 0)
    short = stem.encode()[:room].decode("utf-8", "ignore").rstrip() or "video"
    return f"{short}.{suffix}" if suffix else short


def uploads_dir() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def quota_problem(user, length: int) -> tuple[int, str] | None:
    """Why a new upload of `length` bytes cannot start now: a per-user cap, or the disk's free space."""
    hour_ago = timezone.now() - timedelta(hours=1)
    refused = UploadRefusal.objects.filter(user=user, created__gte=hour_ago).count()
    if refused >= settings.UPLOAD_MAX_REFUSED_PER_HOUR:
        return 429, (f"{refused} of your uploads were refused in the last hour; the limit is "
                     f"{settings.UPLOAD_MAX_REFUSED_PER_HOUR}: check your files (the reasons were given) and try "
                     "again later")
    open_uploads = Upload.objects.filter(user=user, video__isnull=True, error="")
    if open_uploads.count() >= settings.UPLOAD_MAX_OPEN:
        return 429, (f"you have {settings.UPLOAD_MAX_OPEN} unfinished uploads; finish or cancel one first "
                     f"(unfinished uploads are deleted after {settings.UPLOAD_EXPIRE_HOURS} h)")
    announced = open_uploads.aggregate(total=Sum("length"))["total"] or 0
    if announced + length > settings.UPLOAD_MAX_OPEN_BYTES:
        return 429, (f"your unfinished uploads would total {(announced + length) / 1e9:.1f} GB; the limit is "
                     f"{settings.UPLOAD_MAX_OPEN_BYTES / 1e9:.1f} GB: finish or cancel some first")
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if length + settings.UPLOAD_FREE_MARGIN > free:
        return 507, (f"not enough free disk space on the server for a {length / 1e9:.1f} GB file "
                     f"({free / 1e9:.1f} GB free, {settings.UPLOAD_FREE_MARGIN / 1e9:.1f} GB kept in reserve); "
                     "ask the lab's admin to free space")
    return None


def disk_error(exc: OSError) -> JsonResponse:
    """An OSError while storing an upload, as a tus JSON error (507 when the disk is full)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return error(507, "the server's disk is full; what arrived so far is kept: resume once space is freed")
    return error(500, f"the server could not store the upload ({os.strerror(exc.errno or 0) or type(exc).__name__}); "
                      "resume later")


def expire_uploads() -> int:
    """Scheduled (hourly): delete unfinished uploads untouched for UPLOAD_EXPIRE_HOURS, and their bytes."""
    cutoff = timezone.now() - timedelta(hours=settings.UPLOAD_EXPIRE_HOURS)
    stale = list(Upload.objects.filter(video__isnull=True, touched__lt=cutoff))
    for upload in stale:
        upload.path.unlink(missing_ok=True)
        upload.delete()
    UploadRefusal.objects.filter(created__lt=timezone.now() - timedelta(hours=1)).delete()
    return len(stale)


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
    problem = quota_problem(request.user, length)
    if problem:
        return error(*problem)
    upload = Upload.objects.create(dataset=dataset, user=request.user, filename=safe_name(meta.get("filename", "")),
                                   length=length, params=params)
    try:
        upload.path.touch()
    except OSError as exc:
        upload.delete()
        return disk_error(exc)
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
    if request.content_type != "application/offset+octet-stream":
        return error(415, "PATCH needs Content-Type: application/offset+octet-stream")
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        return error(400, "Upload-Offset header is required")
    try:
        with open(upload.path, "r+b") as fh:
            try:  # one writer per upload: a second PATCH at the same time is told so, never interleaved
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return error(423, "another request is writing this upload; resume when it has finished")
            upload.refresh_from_db()  # the offset and state as the previous writer left them
            if upload.video_id or upload.error:
                return error(409, upload.error or "this upload is already complete")
            if offset != upload.offset:
                return tus_response(409, Upload_Offset=upload.offset)
            failure = receive(request, upload, fh, offset)
            if failure:
                return failure
            if upload.offset < upload.length:
                return tus_response(204, Upload_Offset=upload.offset)
            return finish(upload)
    except FileNotFoundError:
        return error(410, "this upload expired or was cancelled; start it again")
    except TimeoutError:  # the client sent too slowly (dataset_site.web_worker): what arrived is kept
        return error(408, "the chunk came too slowly and the server stopped waiting; resume the upload")
    except OSError as exc:
        return disk_error(exc)


def receive(request: HttpRequest, upload: Upload, fh, offset: int) -> JsonResponse | None:
    """Append the request body at `offset`; what arrived is kept (and recorded) even if the client drops."""
    written = 0
    fh.seek(offset)
    try:
        while True:
            block = request.read(1 << 20)
            if not block:
                break
            if offset + written + len(block) > upload.length:
                return error(400, "more bytes than Upload-Length announced")
            fh.write(block)
            upload_hash.add(str(upload.pk), offset + written, block)
            written += len(block)
    finally:  # a dropped connection keeps what arrived: the client resumes from here
        fh.flush()
        os.fsync(fh.fileno())
        fh.truncate(offset + written)
        Upload.objects.filter(pk=upload.pk).update(offset=offset + written, touched=timezone.now())
        upload.offset = offset + written
    return None


def finish(upload: Upload) -> HttpResponse:
    """All bytes are in: check the file by content; the same file already in the dataset waits for the
    user's choice (metadata ``duplicate``: ``ask``, the default, ``keep`` or ``skip``); else it becomes a
    video and a job."""
    if upload.sha256:  # checked and hashed already: a repeated final PATCH (waiting for a duplicate decision)
        return answer_complete(upload)
    problem = check_upload(upload.path, upload.filename)
    if problem:  # nothing of a refused upload is kept: its bytes, its row; only that it was refused, for the limit
        upload.path.unlink(missing_ok=True)
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).delete()
            UploadRefusal.objects.create(user_id=upload.user_id)
        return error(422, problem)
    upload.sha256 = upload_hash.digest(str(upload.pk), upload.path, upload.length)
    Upload.objects.filter(pk=upload.pk).update(sha256=upload.sha256)
    return answer_complete(upload)


def answer_complete(upload: Upload) -> HttpResponse:
    """A checked, hashed upload: ask about a duplicate (or skip it, as asked), else accept it."""
    choice = (upload.params or {}).get("duplicate", "ask")
    same = Video.objects.filter(dataset=upload.dataset, sha256=upload.sha256).order_by("created").first()
    if same is not None and choice != "keep":
        if choice == "skip":
            upload.path.unlink(missing_ok=True)
            Upload.objects.filter(pk=upload.pk).update(error=f"skipped: the same file as {same.source_name}")
            response = tus_response(204, Upload_Offset=upload.offset)
            response["X-Duplicate-Skipped"] = "1"
        else:
            Upload.objects.filter(pk=upload.pk).update(duplicate_of=same)
            response = tus_response(204, Upload_Offset=upload.offset)
            response["X-Keep-URL"] = reverse("upload_keep", args=[upload.pk])
        who = same.uploaded_by.get_username() if same.uploaded_by else "an import"
        response["X-Duplicate-Of"] = (f"{same.source_name}, uploaded by {who} on "
                                      f"{same.created:%Y-%m-%d %H:%M} UTC").encode("ascii", "replace").decode()
        response["X-Duplicate-URL"] = reverse("video_detail", args=[same.pk])
        return response
    video = accept(upload)
    response = tus_response(204, Upload_Offset=upload.offset)
    response["X-Video-URL"] = reverse("video_detail", args=[video.pk])
    return response


@require_http_methods(["POST"])
def upload_keep(request: HttpRequest, upload_id) -> HttpResponse:
    """"Keep both": a complete upload that duplicates a video of the dataset becomes a video after all."""
    upload = _upload(request, upload_id)
    with transaction.atomic():
        claimed = Upload.objects.filter(pk=upload.pk, video__isnull=True, duplicate_of__isnull=False).update(
            duplicate_of=None)
    if not claimed:
        return error(409, "this upload is not waiting for a decision")
    upload.refresh_from_db()
    video = accept(upload)
    return JsonResponse({"video_url": reverse("video_detail", args=[video.pk])})


def accept(upload: Upload) -> Video:
    """Move the file into place, create its Video row and queue its job."""
    from jobs.messages import enqueue

    with transaction.atomic():
        params = {k: v for k, v in (upload.params or {}).items() if k != "duplicate"}
        video = Video.objects.create(dataset=upload.dataset, source_name=upload.filename, params=params,
                                     uploaded_by=upload.user, output_dir="", source_path="", sha256=upload.sha256)
        folder = Path(settings.DATA_DIR) / "videos" / str(video.pk)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / RECORDING_NAME  # server-chosen, no extension: never opened by the user's name
        shutil.move(str(upload.path), source)
        video.source_path = str(source)
        video.output_dir = str(folder / "dataset")
        video.save(update_fields=["source_path", "output_dir"])
        upload.video = video
        upload.save(update_fields=["video"])
    enqueue(video)
    return video
