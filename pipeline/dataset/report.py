"""dataset_report.json and dataset_report.html (interactive Plotly, works offline)."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.atomic import atomic_output

if TYPE_CHECKING:
    from pipeline.dataset.build import DatasetParams
    from pipeline.media.probe import VideoInfo
    from pipeline.audio.segment import Segmentation


def recommendations(clips: list[dict], failed: list[dict], dropped: list[dict], params: "DatasetParams",
                    audio_padding: list[dict] = (), lip_sync: dict | None = None) -> list[str]:
    tips: list[str] = []
    if lip_sync and lip_sync.get("verdict") in ("in_sync", "offset") and lip_sync.get("offset_ms"):
        tips.append(f"The recording's audio is {abs(lip_sync['offset_ms']):.0f} ms "
                    f"{'late' if lip_sync['offset_ms'] > 0 else 'early'} against the mouth (pooled over "
                    f"{lip_sync['clips']} clip(s), false-alarm probability {lip_sync['false_alarm_p']:.2g}): "
                    "--correct_av_offset writes the clips with the audio shifted by it.")
    if lip_sync and lip_sync.get("verdict") == "too_short":
        tips.append(f"Lip sync cannot be decided from {lip_sync['duration_s']:.0f} s of speech; about "
                    f"{lip_sync['needed_s']:.0f} s of this speaker would decide it.")
    for gap in audio_padding:
        tips.append(f"The source has no audio from {gap['start_s']:.2f} s to {gap['end_s']:.2f} s "
                    f"({gap['duration_s']:.1f} s): treated as silence, no clip was cut from it.")
    if not clips:
        tips.append("No clip was produced: " + ("no speech was found in the recording." if not dropped and not failed
                                                else "see the dropped segments and failed clips below."))
    low_face = [c for c in clips if c["quality"]["valid_rate"] < 0.8]
    if low_face:
        tips.append(f"{len(low_face)} clip(s) have under 80% usable face frames: check framing, lighting and occlusion.")
    verdicts = [c["lip_sync"]["verdict"] for c in clips]
    if verdicts.count("mismatch"):
        tips.append(f"{verdicts.count('mismatch')} clip(s): the audio does not match the face (the mouth moves no more "
                    "with it than with shifted audio): the audio may belong to someone else or be dubbed; exclude them.")
    if verdicts.count("no_reliable_offset"):
        tips.append(f"{verdicts.count('no_reliable_offset')} clip(s) have no reliable lip-sync offset: the evidence is "
                    "ambiguous (little articulation, or audio that does not clearly belong to the face); review them "
                    "before training.")
    if verdicts.count("offset"):
        tips.append(f"{verdicts.count('offset')} clip(s) have a reliable audio offset outside the ITU-R BT.1359 "
                    "window (90 ms early to 185 ms late): check the source's audio sync.")
    mute = [c for c in clips if c.get("face_speaking") is False]
    if mute:
        tips.append(f"{len(mute)} clip(s): the face does not articulate while the audio has speech (off-screen speaker?).")
    from pipeline.dataset.shot_split import SHOT_CHANGE
    from pipeline.quality.scoring import JITTER_SCALE

    jittery = [c for c in clips if (c["quality"].get("jitter") or 0) > 2 * JITTER_SCALE]
    if jittery and params.smooth == "none":
        tips.append(f"{len(jittery)} clip(s) have jittery tracking: consider --smooth oneeuro.")
    short = [d for d in dropped if d.get("cause") != SHOT_CHANGE]
    if short:
        total = sum(d["duration_s"] for d in short)
        tips.append(f"{len(short)} speech segment(s) ({total:.1f} s) were shorter than min_clip "
                    f"({params.segment.min_clip:g} s) and dropped: lower --min_clip to keep them.")
    cut = [d for d in dropped if d.get("cause") == SHOT_CHANGE]
    if cut:
        tips.append(f"{len(cut)} part(s) of speech runs ({sum(d['duration_s'] for d in cut):.1f} s) were dropped at "
                    "shot changes: each side of a cut must hold min_clip of speech to be a clip.")
    if failed:
        tips.append(f"{len(failed)} clip(s) failed; their reasons are listed under failed_clips.")
    below = [c for c in clips if c["quality_score"] < params.quality_threshold]
    if below:
        tips.append(f"{len(below)} clip(s) score below {params.quality_threshold:g}: review or exclude them.")
    return tips


def plotly_text(text: str) -> str:
    """A user's string (a file name, a tag) as Plotly draws it: Plotly renders HTML in titles and hover text
    (a name like ``<a href=...>`` became a live link), and decodes entities, so escaping shows it as typed."""
    return html.escape(str(text), quote=True)


def build_report(source: str, info: "VideoInfo", audio_duration_s: float, segmentation: "Segmentation",
                 clips: list[dict], failed: list[dict], params: "DatasetParams", stages: dict[str, float],
                 audio_padding: list[dict] = (), lip_sync: dict | None = None,
                 shot_dropped: list[dict] = ()) -> dict:
    dropped = list(segmentation.dropped) + list(shot_dropped)
    scores = np.array([c["quality_score"] for c in clips], dtype=float)
    speech = sum(c["duration_s"] for c in clips)
    return {
        "source": source,
        "source_duration_s": round(info.duration_s or audio_duration_s, 3),
        "video": {"width": info.width, "height": info.height, "fps": round(info.average_fps, 3),
                  "codec": info.video_codec, "rotation": info.rotation},
        "audio": {"codec": info.audio_codec, "sample_rate": info.audio_sample_rate, "channels": info.audio_channels},
        "params": params.as_dict(),
        "totals": {
            "clips": len(clips),
            "clip_seconds": round(speech, 3),
            "frames": int(sum(c["frames"] for c in clips)),
            "face_frames": int(sum(c["face_frames"] for c in clips)),
            "muted_clips": sum(1 for c in clips if c.get("kind") == "muted"),
            "failed_clips": len(failed),
            "dropped_segments": len(dropped),
        },
        "score": {
            "mean": round(float(scores.mean()), 2) if scores.size else None,
            "median": round(float(np.median(scores)), 2) if scores.size else None,
            "min": round(float(scores.min()), 2) if scores.size else None,
            "max": round(float(scores.max()), 2) if scores.size else None,
            "histogram": np.histogram(scores, bins=10, range=(0, 100))[0].tolist() if scores.size else [0] * 10,
            "threshold": params.quality_threshold,
        },
        "clips": [{
            "clip": c["clip"], "source_start_s": c["source_start_s"], "source_end_s": c["source_end_s"],
            "duration_s": c["duration_s"], "frames": c["frames"], "face_frames": c["face_frames"],
            "quality_score": c["quality_score"], **{k: c["quality"][k] for k in ("valid_rate", "smoothness", "range_validity",
                                                                                 "interpolated_frames", "outliers_replaced")},
            "lip_sync_offset_ms": c["lip_sync"]["offset_ms"], "lip_sync_confidence": c["lip_sync"]["confidence"],
            "lip_sync_verdict": c["lip_sync"]["verdict"], "face_speaking": c["face_speaking"],
            "speech_ratio": c["speech_ratio"], "reasons": c["quality_reasons"],
            **{k: c["quality"].get(k) for k in ("jitter", "mouth_activity", "interocular_px", "sharpness",
                                                "brightness", "multi_face_rate", "yaw_max_abs", "pitch_max_abs")},
        } for c in clips],
        "below_threshold": [c["clip"] for c in clips if c["quality_score"] < params.quality_threshold],
        "dropped_segments": dropped,
        "shots": recording_shots(clips),
        "failed_clips": failed,
        "audio_padding": list(audio_padding),
        "segmentation": {"speech_level_dbfs": segmentation.speech_level_db, "energy_floor_dbfs": segmentation.floor_db,
                         "speech_runs": [[round(s.start_s, 3), round(s.end_s, 3)] for s in segmentation.speech_runs]},
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "recommendations": recommendations(clips, failed, dropped, params, audio_padding, lip_sync),
        "lip_sync": lip_sync,
    }


def recording_shots(clips: list[dict]) -> dict:
    """The shot boundaries the clip workers saw (each decodes its span and the second before it), once each."""
    seen: dict[float, dict] = {}
    for c in clips:
        shot = c.get("shot") or {}
        for b in [*(shot.get("boundaries") or []), *((shot.get("part_of") or {}).get("split_at") or [])]:
            seen.setdefault(round(b["start_s"], 3), b)
    boundaries: list[dict] = []
    for b in (seen[k] for k in sorted(seen)):  # one transition seen by two workers (one from its lead-in) once
        if boundaries and b["start_s"] <= boundaries[-1]["end_s"] + 1e-6:
            last = boundaries[-1]
            boundaries[-1] = {**last, "kind": "gradual" if "gradual" in (last["kind"], b["kind"]) else "cut",
                              "end_s": max(last["end_s"], b["end_s"]), "strength": max(last["strength"], b["strength"])}
            continue
        boundaries.append(b)
    return {"boundaries": boundaries, "cuts": sum(b["kind"] == "cut" for b in boundaries),
            "gradual": sum(b["kind"] == "gradual" for b in boundaries),
            "coverage": "the frames decoded for clips: every clip's span and the second before it"}


def render_html(report: dict) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rows = report["clips"]
    fig = make_subplots(rows=2, cols=2, subplot_titles=("Quality score distribution", "Score vs duration",
                                                        "Score components per clip", "Lip-sync offset vs confidence"))
    fig.add_trace(go.Histogram(x=[r["quality_score"] for r in rows], xbins=dict(start=0, end=100, size=10),
                               name="clips"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[r["duration_s"] for r in rows], y=[r["quality_score"] for r in rows], mode="markers",
                             text=[r["clip"] for r in rows], name="clip"), row=1, col=2)
    for key in ("valid_rate", "range_validity", "mouth_activity", "multi_face_rate"):
        fig.add_trace(go.Bar(x=[r["clip"] for r in rows], y=[r[key] for r in rows], name=key), row=2, col=1)
    fig.add_trace(go.Scatter(x=[r["lip_sync_offset_ms"] for r in rows], y=[r["lip_sync_confidence"] for r in rows],
                             mode="markers", text=[f"{r['clip']}: {r['lip_sync_verdict']}" for r in rows],
                             name="lip sync"), row=2, col=2)
    fig.update_layout(height=800, barmode="group", showlegend=True, title=f"Dataset report: {plotly_text(report['source'])}")
    chart = fig.to_html(full_html=False, include_plotlyjs=True)  # plotly.js inline: no CDN, works offline

    def cell(v) -> str:
        if isinstance(v, list):
            v = "; ".join(map(str, v))
        return html.escape("" if v is None else str(v))

    header = ["clip", "source_start_s", "duration_s", "frames", "quality_score", "valid_rate", "jitter",
              "lip_sync_verdict", "lip_sync_offset_ms", "lip_sync_confidence", "face_speaking", "interocular_px",
              "sharpness", "multi_face_rate", "speech_ratio", "reasons"]
    table = "".join("<tr>" + "".join(f"<td>{cell(r[h])}</td>" for h in header) + "</tr>" for r in rows)
    tips = "".join(f"<li>{html.escape(t)}</li>" for t in report["recommendations"]) or "<li>Nothing to flag.</li>"
    dropped = "".join(f"<li>{d['start_s']}–{d['end_s']} s ({d['duration_s']} s): {html.escape(d['reason'])}</li>"
                      for d in report["dropped_segments"]) or "<li>none</li>"
    silent = "".join(f"<li>{g['start_s']}–{g['end_s']} s ({g['duration_s']} s): {html.escape(g['reason'])}</li>"
                     for g in report.get("audio_padding", [])) or "<li>none</li>"
    failed = "".join(f"<li>{html.escape(f['clip'])} ({f['start_s']}–{f['end_s']} s): {html.escape(f['reason'])}</li>"
                     for f in report["failed_clips"]) or "<li>none</li>"
    totals = report["totals"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Dataset report: {html.escape(report['source'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}}table{{border-collapse:collapse}}
td,th{{border:1px solid #d9dde5;padding:.2rem .5rem;font-size:.9rem}}th{{background:#f0f2f5}}</style></head><body>
<h1>Dataset report: {html.escape(report['source'])}</h1>
<p>{totals['clips']} clips, {totals['clip_seconds']:.1f} s of speech, {totals['frames']} frames
({totals['face_frames']} with a face); mean score {cell(report['score']['mean'])};
{totals['dropped_segments']} dropped segments, {totals['failed_clips']} failed clips.</p>
<h2>Recommendations</h2><ul>{tips}</ul>
{chart}
<h2>Clips</h2><table><tr>{''.join(f'<th>{h}</th>' for h in header)}</tr>{table}</table>
<h2>Dropped segments</h2><ul>{dropped}</ul>
<h2>Failed clips</h2><ul>{failed}</ul>
<h2>Missing source audio (padded with silence)</h2><ul>{silent}</ul>
</body></html>"""


def write_reports(root: Path, source: str, info: "VideoInfo", audio_duration_s: float, segmentation: "Segmentation",
                  clips: list[dict], failed: list[dict], params: "DatasetParams", stages: dict[str, float],
                  audio_padding: list[dict] = (), lip_sync: dict | None = None, shot_dropped: list[dict] = ()) -> dict:
    report = build_report(source, info, audio_duration_s, segmentation, clips, failed, params, stages, audio_padding,
                          lip_sync, shot_dropped)
    with atomic_output(root / "dataset_report.json") as fh:
        json.dump(report, fh, indent=1)
    with atomic_output(root / "dataset_report.html") as fh:
        fh.write(render_html(report))
    return report
