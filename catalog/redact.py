"""Server paths are for the lab's staff: everyone else sees them with the server's folders cut off.

Job errors and file problems name the file they are about, which is what a
researcher needs; the folders above it (where DATA_DIR is, how the server is
laid out) are not, and a shared server should not show them to every member.
"""
from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings


def server_paths_hidden(text: str, user, *folders: str | Path) -> str:
    """`text` for `user`: unchanged for staff; otherwise DATA_DIR becomes "DATA_DIR" and other folders go."""
    if not text or getattr(user, "is_staff", False):
        return text
    out = text.replace(str(Path(settings.DATA_DIR)), "DATA_DIR")
    for folder in folders:
        if folder:
            out = out.replace(str(folder).rstrip("/") + "/", "")
    # any other absolute path that is left: keep its file name only
    return re.sub(r"(?<![\w.])/(?:[^\s/:'\"]+/)+([^\s/:'\"]+)", r"\1", out)
