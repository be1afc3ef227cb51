"""One layout for every zip (the filtered download and a selection's): each source video is a folder laid out as
make_dataset writes one, ``<top>/<video>/clips/clip_0000.mp4`` and ``<top>/<video>/data/clip_0000_*``, so the
paths a clip's metadata.json and a frozen manifest give (``data/...``, ``clips/...``) are paths inside its video's
folder, and a trainer that reads a make_dataset folder reads each one as it is."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from catalog.models import Clip
from pipeline.dataset.clip_files import inside


def safe_part(text: str) -> str:
    """A path component that cannot climb out of its folder or surprise an unzip tool."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"
    return cleaned[:120]


class VideoFolders:
    """One folder per source video, named after it; two videos with the same name (the same file uploaded
    twice, two imports) get their ids appended, so no entry of the zip overwrites another."""

    def __init__(self, top: str) -> None:
        self.top = top
        self.by_video: dict[int, str] = {}
        self.taken: set[str] = set()

    def of(self, video_id: int, source_name: str) -> str:
        if video_id not in self.by_video:
            name = safe_part(source_name.rsplit(".", 1)[0])
            if name in self.taken:
                name = f"{name}_video{video_id}"
            self.taken.add(name)
            self.by_video[video_id] = name
        return f"{self.top}/{self.by_video[video_id]}"

    def names(self) -> dict[int, str]:
        """video id -> its folder (under the top folder), for the zip's description."""
        return dict(self.by_video)


def clip_files(clip: Clip, folder: str, roles: Iterable[str]) -> Iterator[tuple[str, str, Path | None]]:
    """(role, name in the zip, file on disk or None when it is gone) for each of the clip's ``roles``: the
    file's make_dataset path under its video's folder."""
    for role in roles:
        path = clip.file_path(role)
        relative = _relative(clip, role, path)
        if relative is None:
            continue  # the clip has no such file (an older clip without a mask, say)
        yield role, f"{folder}/{relative}", path if path is not None and path.is_file() else None


def _relative(clip: Clip, role: str, path: Path | None) -> str | None:
    entry = (clip.files or {}).get(role)
    if entry is not None:
        text = entry.get("path") or ""
        if not inside(clip.video.root, text):
            return role  # a row pointing outside its folder: named by its role, never by the path it gives
    elif path is not None:
        text = path.relative_to(clip.video.root).as_posix()  # the metadata file (not listed in ``files``)
    else:
        return None
    return "/".join(safe_part(part) for part in PurePosixPath(text).parts)
