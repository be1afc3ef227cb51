"""File responses that honour HTTP Range requests (206), so a browser's video player can seek.

Django's FileResponse always sends the whole file; Chromium then cannot jump inside a clip that is not
fully buffered.  One range per request is enough for media players; anything else gets the whole file.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")  # longer numbers: not a usable range (ignored)
CHUNK = 256 * 1024


def _parse(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single satisfiable range, or None when it is absent or unusable."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


def _read(path: Path, start: int, length: int):
    with open(path, "rb") as fh:
        fh.seek(start)
        while length > 0:
            block = fh.read(min(CHUNK, length))
            if not block:
                return
            length -= len(block)
            yield block


def ranged_file_response(request: HttpRequest, path: Path, content_type: str, as_attachment: bool = False) -> HttpResponse:
    size = os.path.getsize(path)
    header = request.headers.get("Range", "")
    span = _parse(header, size) if header else None
    if header and span is None and RANGE.match(header.strip()) and size:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if span is None:
        response = FileResponse(open(path, "rb"), content_type=content_type, as_attachment=as_attachment,
                                filename=path.name)
    else:
        start, end = span
        response = StreamingHttpResponse(_read(path, start, end - start + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    return response
