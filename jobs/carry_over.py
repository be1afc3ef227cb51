"""Curation survives a reprocess: tags and rejections move to the new clips that cover the same span."""
from __future__ import annotations

from catalog.models import Clip, Video

SAME_SPAN = 0.5  # overlap, as a share of the shorter of the two clips


def curation_of(video: Video) -> list[dict]:
    """What curators said about the video's current clips (plus anything still waiting to be carried over)."""
    kept = list(video.carry_over or [])
    for clip in video.clips.prefetch_related("tags"):
        tags = sorted(t.name for t in clip.tags.all())
        if tags or clip.rejected:
            kept.append({"start_s": clip.source_start_s, "end_s": clip.source_end_s, "tags": tags,
                         "rejected": clip.rejected})
    return kept


def overlap_share(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    return inter / shorter if inter > 0 and shorter > 0 else 0.0


def apply_carry_over(video: Video) -> int:
    """Give each new clip the tags and rejection of old clips covering the same span; returns clips changed."""
    entries = list(video.carry_over or [])
    if not entries:
        return 0
    changed = 0
    for clip in Clip.objects.filter(video=video):
        span = (clip.source_start_s, clip.source_end_s)
        matches = [e for e in entries if overlap_share(span, (e["start_s"], e["end_s"])) >= SAME_SPAN]
        if not matches:
            continue
        names = sorted({name for e in matches for name in e.get("tags", [])})
        for name in names:
            tag, _ = clip.dataset.tags.get_or_create(name=name)
            clip.tags.add(tag)
        if any(e.get("rejected") for e in matches) and not clip.rejected:
            Clip.objects.filter(pk=clip.pk).update(rejected=True)
        changed += 1
    Video.objects.filter(pk=video.pk).update(carry_over=[])
    return changed
