"""The catalog side of the training export: clip rows -> ExportClips, splits over a dataset's videos, the download."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from catalog import access
from catalog.filters import ClipFilter
from catalog.models import Clip, Dataset
from exports.downloads import zip_response
from exports.layout import safe_part
from pipeline.dataset.clip_files import ClipFiles
from pipeline.training.resample import EXPORT_FPS
from pipeline.training.trainer_layouts import LAYOUTS, LayoutOptions, layout_entries
from pipeline.training.training_export import SPLITS, ExportClip, assign_grouped_splits
from weblib.errors import bad_request


def video_key(video_id: int) -> str:
    """The split group of a clip: its source recording (one video row)."""
    return f"video_{video_id}"


def shared_pairs(videos) -> list[tuple[int, int]]:
    """(id, id) of the loaded videos that share footage (Video.shared_footage, catalog.shared_footage)."""
    ids = {v.pk for v in videos}
    return sorted({tuple(sorted((v.pk, e["video"]))) for v in videos for e in (v.shared_footage or [])
                   if isinstance(e, dict) and e.get("video") in ids})


def splits_of(videos, seed: int) -> dict[str, str]:
    """video key -> split over these videos; videos sharing footage are one group, in one split."""
    pairs = [(video_key(a), video_key(b)) for a, b in shared_pairs(videos)]
    return assign_grouped_splits([video_key(v.pk) for v in videos], pairs, seed)


def dataset_splits(dataset: Dataset, seed: int) -> dict[str, str]:
    """Split over every video of the dataset, so a video is in the same split whatever the selection."""
    return splits_of(list(dataset.videos.only("pk", "shared_footage")), seed)


def split_group_count(videos) -> int:
    """How many split groups the videos make (videos sharing footage are one)."""
    from pipeline.dataset.shared_footage import split_groups

    return len(set(split_groups([v.pk for v in videos], shared_pairs(videos)).values()))


def split_warning(videos, seed: int = 0) -> str:
    """What a training export of these videos (a dataset's, loaded) will lack, said before the download ("" when
    every split has a video)."""
    splits = splits_of(videos, seed)
    empty = [name for name in SPLITS if name not in set(splits.values())]
    if not empty:
        return ""
    n, groups = len(splits), split_group_count(videos)
    shared = f" ({n} videos, but some share footage: {groups} groups)" if groups < n else ""
    return (f"The dataset has {groups} independent recording{'' if groups == 1 else 's'}{shared}; the split is by "
            f"source video, so the {' and '.join(empty)} split{'s' if len(empty) > 1 else ''} will be empty "
            "(3 or more fill all three).")


def export_clip(clip: Clip) -> ExportClip:
    return ExportClip(
        clip_id=clip.pk, name=clip.name, source=clip.source_name, video=video_key(clip.video_id),
        files=ClipFiles(clip.video.root, clip.name),
        info={**clip.summary(), "rejected": clip.rejected, "tags": sorted(t.name for t in clip.tags.all())},
        file_hashes={role: (entry or {}).get("sha256") for role, entry in (clip.files or {}).items()})


def export_clips(clips: Iterable[Clip]) -> Iterator[ExportClip]:
    for clip in clips:
        yield export_clip(clip)


def parse_seed(value: str | None) -> int:
    if value in (None, ""):
        return 0
    seed = int(value)  # ValueError: the caller answers 400
    if not 0 <= seed < 2**31:
        raise ValueError("seed out of range")
    return seed


def parse_layout(query) -> tuple[str, int | None, list[str]]:
    """(format, fps or None, problems) of a download's ``format`` and ``fps`` parameters."""
    layout = query.get("format") or "parquet"
    streamed = [k for k in LAYOUTS if k != "facecrops"]
    problems = [] if layout in streamed else [
        "format: facecrops videos are made in the background (the clip table's face-crop form)" if layout == "facecrops"
        else f"format: one of {', '.join(streamed)}"]
    fps_text = query.get("fps") or ""
    fps = int(fps_text) if fps_text.isdigit() and int(fps_text) in EXPORT_FPS else None
    if fps_text and fps is None:
        problems.append(f"fps: one of {', '.join(map(str, EXPORT_FPS))}, or empty for each clip's own")
    if layout == "musetalk" and fps:
        problems.append("fps: musetalk keeps each clip's own video frames; leave fps empty")
    return layout, fps, problems


def training_download(request: HttpRequest, pk: int) -> HttpResponse:
    """GET with the clip table's filter (and format, fps, seed): the filtered clips as a training export in a zip."""
    dataset = access.get_dataset(request.user, pk)
    form = ClipFilter.of(dataset, request.GET)
    problems = form.problems()
    try:
        seed = parse_seed(request.GET.get("seed"))
    except ValueError:
        problems = "; ".join(filter(None, [problems, "seed: a whole number from 0 is needed"]))
    layout, fps, layout_problems = parse_layout(request.GET)
    problems = "; ".join(filter(None, [problems, *layout_problems]))
    if problems:
        return bad_request(request, "Nothing was exported", f"the filter was not understood: {problems}",
                           [("clip table", reverse("dataset_detail", args=[dataset.pk]))], "filter-errors")
    clips = form.apply(dataset.clips.select_related("video").prefetch_related("tags")).iterator(chunk_size=500)
    return training_zip(request, dataset, clips, seed, f"{safe_part(dataset.name)}-training-{layout}",
                        {"filter": form.active()}, layout, fps)


def training_zip(request: HttpRequest, dataset: Dataset, clips: Iterable[Clip], seed: int, top: str,
                 describe: dict, layout: str = "parquet", fps: int | None = None) -> HttpResponse:
    """The clips as a training export in a zip, written while it is sent; split over the dataset's videos."""
    describe = {"dataset": dataset.name, "team": dataset.team.name, **describe,
                "created": timezone.now().isoformat(), "by": request.user.get_username()}
    options = LayoutOptions(fps=fps, seed=seed, describe=describe)
    entries = ((f"{top}/{name}", data) for name, data in
               layout_entries(layout, export_clips(clips), dataset_splits(dataset, seed), options))
    return zip_response(entries, f"{top}-{timezone.now():%Y%m%d-%H%M%S}.zip")
