"""Import a make_dataset output folder (its manifest.jsonl) into a dataset."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from catalog.db import refresh_planner_stats
from catalog.models import Clip, Dataset, Video, clips_changed
from pipeline.dataset.clip_files import inside
from pipeline.dataset.clip_record import summary
from pipeline.errors import InputError
from pipeline.quality.scoring import score


@dataclass
class ImportResult:
    videos: int
    created: int
    updated: int


CLIP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def read_manifest(folder: Path) -> list[dict]:
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        raise InputError(folder, "no manifest.jsonl here: not a make_dataset output folder")
    lines = []
    for number, text in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            line["clip"], line["source"], line["files"]  # noqa: B018 - required keys
        except (ValueError, KeyError, TypeError):
            raise InputError(manifest, f"line {number} is not a clip record") from None
        if not isinstance(line["clip"], str) or not CLIP_NAME.fullmatch(line["clip"]) or ".." in line["clip"]:
            raise InputError(manifest, f"line {number}: {str(line['clip'])[:60]!r} is not a clip name")
        if not isinstance(line["files"], dict):
            raise InputError(manifest, f"line {number} is not a clip record")
        for entry in line["files"].values():
            if not isinstance(entry, dict) or not inside(folder, entry.get("path")):
                raise InputError(manifest, f"line {number}: a file path leads outside the dataset folder "
                                           "or through a symbolic link")
            if not (folder / entry["path"]).is_file():
                raise InputError(manifest, f"line {number}: {entry['path']} is missing from the folder")
        lines.append(line)
    return lines


REPORT_KEYS = ("source_duration_s", "totals", "score", "dropped_segments", "failed_clips", "recommendations", "params",
               "lip_sync", "shots")


def read_report(folder: Path) -> dict:
    """The parts of dataset_report.json that are not clip rows; {} when the folder has none (or it is unreadable)."""
    try:
        report = json.loads((folder / "dataset_report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report_summary(report)


def report_summary(report) -> dict:
    if not isinstance(report, dict):
        return {}
    return {"source": report.get("source"), **{key: report[key] for key in REPORT_KEYS if key in report}}


def clip_fields(line: dict, weights: dict | None = None) -> dict:
    """Clip columns from one manifest line (pipeline.dataset.clip_record.summary: this version's or an older one's),
    scored again with the dataset's weights when it has its own."""
    fields = summary(line)
    if weights:
        fields["quality_score"] = score(fields["quality"], weights)
    return {**fields, "files": line["files"]}


def recording_folders(folder: str | Path) -> list[Path]:
    """The make_dataset folders in ``folder``: itself, or for a folder of many recordings (pipeline.dataset.multi_build)
    each recording's folder that has a manifest."""
    from pipeline.dataset.multi_build import RECORDINGS

    folder = Path(folder)
    if (folder / "recordings.json").is_file() and (folder / RECORDINGS).is_dir():
        found = sorted(p for p in (folder / RECORDINGS).iterdir() if (p / "manifest.jsonl").is_file())
        if found:
            return found
    return [folder]


def import_folder(dataset: Dataset, folder: str | Path, lines: list[dict] | None = None,
                  report: dict | None = None) -> ImportResult:
    """Create (or refresh) the folder's video and clip rows; safe to run again.  ``lines`` and ``report``: the
    manifest lines and the report a job has just written there (not read back), else read and checked."""
    folder = Path(folder).resolve()
    lines = read_manifest(folder) if lines is None else lines
    created = updated = 0
    report = read_report(folder) if report is None else report_summary(report)
    sources = sorted({line["source"] for line in lines}) or [report.get("source") or folder.name]
    with transaction.atomic():
        videos = {}
        for source in sources:
            video, _ = Video.objects.get_or_create(
                dataset=dataset, source_name=source, output_dir=str(folder),
                defaults={"status": Video.Status.DONE, "stage": "imported"})
            if report and report.get("source") == source:
                Video.objects.filter(pk=video.pk).update(report=report)
            videos[source] = video
        for line in lines:
            _, was_created = Clip.objects.update_or_create(
                video=videos[line["source"]], name=line["clip"],
                defaults={"dataset": dataset, "source_name": line["source"],
                          **clip_fields(line, dataset.score_weights or None)})
            created += was_created
            updated += not was_created
        for video in videos.values():
            total = video.clips.count()
            Video.objects.filter(pk=video.pk).update(clips_done=total, clips_total=total)
        clips_changed(dataset.pk)
    from catalog.shared_footage import detect

    for video in videos.values():
        detect(video)
    if created:
        refresh_planner_stats()
    return ImportResult(len(videos), created, updated)
