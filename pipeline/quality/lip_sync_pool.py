"""One recording, one A/V offset: pool its clips' lip-sync evidence, then give each clip its verdict against it.

The pooled evidence (pipeline.quality.lip_sync_evidence.pool) is judged like a clip's
(pipeline.quality.lip_sync.judge): with many clips it is long enough to name an offset that no clip alone can.
Each clip then gets:

- the recording's ``in_sync`` / ``offset`` (and its offset), unless its own evidence is long enough to tell and
  stays far below what genuine audio reaches at every offset: ``mismatch`` (this clip's audio does not follow its
  mouth, where the recording's other clips do);
- ``mismatch`` when the whole recording is (dubbed), or when the clip alone already is;
- its own reliable offset when the recording has none (its other clips are too weak to outvote it);
- ``too_short`` when the recording together is still too short to tell (``needed_s``: how many seconds it takes);
- ``no_reliable_offset`` otherwise.
"""
from __future__ import annotations

import numpy as np

from pipeline.quality.lip_sync import (LipSyncParams, evidence_fields, frames_fields, judge, judgement_fields,
                                       stored_evidence)
from pipeline.quality.lip_sync_evidence import pool
from pipeline.quality.lip_sync_model import AudioToMouth, model_at

RELIABLE = ("in_sync", "offset")


def pool_recording(syncs: list[dict], params: LipSyncParams = LipSyncParams(),
                   model: AudioToMouth | None = None) -> tuple[dict | None, list[dict]]:
    """(the recording's lip sync, each clip's lip_sync dict with its verdict against it), in the order given.
    Clips without stored evidence (too little face, or measured by an older version) keep theirs."""
    model = model or model_at(params.model)
    evidence = [stored_evidence(s) for s in syncs]
    usable = [e for e in evidence if e is not None]
    if not usable:
        return None, list(syncs)
    pooled = pool(usable)
    rec = judge(pooled, model.genuine_r, params)
    recording = {**judgement_fields(rec), "clips": len(usable), **evidence_fields(pooled)}
    recording.pop("null_cov")
    out = []
    for sync, ev in zip(syncs, evidence):
        if ev is None:
            out.append(dict(sync))
            continue
        own = judge(ev, model.genuine_r, params)
        verdict, source, reason = clip_verdict(own, rec, ev, params)
        chosen = rec if source == "recording" else own
        fields = judgement_fields(chosen)
        fields["verdict"] = verdict
        if verdict not in RELIABLE:
            fields["offset_ms"] = None
        new = {**sync, **fields, **frames_fields(fields["offset_ms"], sync.get("fps")),
               "basis": source if len(usable) > 1 else "clip",
               "own": judgement_fields(own),
               "recording": {k: recording[k] for k in ("verdict", "offset_ms", "best_offset_ms", "confidence",
                                                       "false_alarm_p", "clips", "duration_s", "needed_s")}}
        new["duration_s"] = round(ev.duration_s, 3)
        if reason:
            new["reason"] = reason
        else:
            new.pop("reason", None)
        out.append(new)
    return recording, out


def clip_verdict(own, rec, ev, params: LipSyncParams) -> tuple[str, str, str]:
    """(verdict, which judgement it comes from: clip | recording, why in words where it is not obvious)."""
    decisive = own.power_z >= own.threshold_z + params.margin
    if rec.verdict in RELIABLE:
        z = ev.scores / ev.null_std
        at = int(np.argmin(np.abs(ev.offsets_ms - rec.best_offset_ms)))
        if decisive and z[at] < own.power_z - params.margin and z.max() < own.power_z - params.margin:
            return "mismatch", "clip", "this clip's audio does not follow its mouth, where its recording's other clips do"
        return rec.verdict, "recording", ""
    if rec.verdict == "mismatch":
        return "mismatch", "recording", "no clip of this recording has audio that follows the mouth: dubbed or foreign audio"
    if own.verdict in ("mismatch", *RELIABLE):
        return own.verdict, "clip", ""
    if rec.verdict == "too_short":
        return "too_short", "recording", (f"too little speech to decide: about {rec.needed_s:.0f} s of this recording "
                                          f"would, it has {rec.duration_s:.0f} s")
    return "no_reliable_offset", "recording", ""
