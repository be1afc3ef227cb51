"""Recompute the QC of a dataset's imported clips from their stored files (see pipeline.quality.requalify)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from catalog.importer import import_folder
from catalog.models import Dataset, Video
from catalog.rescore import rescore


def requalify_dataset(dataset: Dataset, progress: Callable[[Video, int, int], None] | None = None) -> int:
    """Every finished video of ``dataset``: new QC values in its files, then its rows refreshed and re-scored."""
    from pipeline.quality.requalify import requalify_folder

    clips = 0
    for video in dataset.videos.filter(status=Video.Status.DONE).order_by("pk"):
        if not (Path(video.output_dir) / "manifest.jsonl").is_file():
            continue
        source = video.source_path or None

        def report(done: int, total: int, video: Video = video) -> None:
            if progress:
                progress(video, done, total)

        clips += len(requalify_folder(video.output_dir, source, report))
        import_folder(dataset, video.output_dir)
    rescore(dataset, dataset.score_weights or None)
    return clips
