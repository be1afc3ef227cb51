"""After a recording's clips are done: pool their lip-sync evidence (one recording, one A/V offset) and give
every clip its verdict against the recording's offset (pipeline.quality.lip_sync_pool).  A clip whose verdict
changes gets its lip_sync, its quality fields, score and reasons again, and its metadata file rewritten (atomic,
the same parameters key: it stays complete).  Idempotent: the pooled verdicts come from the clips' own evidence.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.atomic import atomic_output
from pipeline.dataset.clip_files import ClipFiles
from pipeline.quality.lip_sync import LipSyncParams
from pipeline.quality.lip_sync_pool import pool_recording
from pipeline.quality.scoring import reasons, score


def with_sync(meta: dict, sync: dict) -> dict:
    """A clip's metadata with this lip sync: the quality fields it feeds, then the score and reasons again."""
    quality = {**meta.get("quality", {}), "lip_sync_verdict": sync.get("verdict"),
               "lip_sync_confidence": sync.get("confidence"), "lip_sync_offset_ms": sync.get("offset_ms")}
    return {**meta, "lip_sync": sync, "quality": quality, "quality_score": score(quality),
            "quality_reasons": reasons(quality)}


def pool_clips(root: Path, clips: list[dict], params: LipSyncParams = LipSyncParams()) -> tuple[dict | None, list[dict]]:
    """(the recording's lip sync, the clips' metadata with their pooled verdicts), rewriting changed files."""
    if not clips:
        return None, clips
    recording, syncs = pool_recording([c.get("lip_sync") or {} for c in clips], params)
    out = []
    for meta, sync in zip(clips, syncs):
        if sync != meta.get("lip_sync"):
            meta = with_sync(meta, sync)
            with atomic_output(ClipFiles(Path(root), meta["clip"]).metadata) as fh:
                json.dump(meta, fh, indent=1)
        out.append(meta)
    return recording, out
