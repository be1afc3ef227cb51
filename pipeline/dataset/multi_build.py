"""make_dataset over many recordings into one dataset folder, one pool of clip workers for all of them.

Layout of the folder:

    recordings/<name>/      one complete make_dataset folder per recording (clips, data, its manifest and reports)
    manifest.jsonl          every clip of every recording: its recording's manifest line plus ``folder``
                            (recordings/<name>), so export_training and the catalog find its files
    recordings.json         one summary per recording (clips, speech seconds, mean score, lip sync, failures),
                            the inputs that are not recordings, and the totals
    dataset_report.html     the same as a table

Recordings are planned (probe, audio decode, speech segmentation) one after another while the workers cut the
clips of earlier ones: the queue of clip jobs is topped up from the next recording whenever it runs short, so the
workers never wait at a recording's boundary and only the recordings with clips in flight hold their audio in
memory.  A recording finishes (lip-sync pooling, its manifest and reports) as soon as its last clip is back.  A
rerun skips every clip already complete, as a single make_dataset does.  A recording that cannot be read is
listed with the reason and the others go on.
"""
from __future__ import annotations

import concurrent.futures as cf
import html
import json
import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.atomic import atomic_output
from pipeline.dataset.build import (
    DatasetParams,
    DatasetPlan,
    DatasetResult,
    clip_pool,
    failure,
    finish_dataset,
    plan_dataset,
)
from pipeline.dataset.clip_job import ClipFailed, process_clip
from pipeline.errors import InputError, PipelineError
from pipeline.media.media_open import check_readable_file, sniff
from pipeline.progress import ProgressFactory, silent

RECORDINGS = "recordings"


@dataclass
class ManyResult:
    root: Path
    recordings: list[dict]  # one summary per recording, in input order
    not_recordings: list[dict]  # {"path", "problem"}: inputs skipped, each with the reason
    results: list[DatasetResult] = field(default_factory=list)

    @property
    def failed_recordings(self) -> list[dict]:
        return [r for r in self.recordings if r.get("error")]


def recording_inputs(inputs: list[str | os.PathLike[str]]) -> tuple[list[Path], list[dict]]:
    """The recordings among the inputs (a folder stands for the files in it, sorted, not recursive; a file whose
    first bytes are not a container is listed with the reason instead), and those listed."""
    files, skipped = [], []
    for item in map(Path, inputs):
        if item.is_dir():
            candidates = sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            candidates = [item]
        for path in candidates:
            try:
                check_readable_file(path)
                with open(path, "rb") as fh:
                    sniff(path, fh.read(4096))
            except (InputError, OSError) as exc:
                skipped.append({"path": str(path), "problem": getattr(exc, "problem", None) or str(exc)})
                continue
            files.append(path)
    return files, skipped


def folder_names(paths: list[Path]) -> list[str]:
    """A folder name per recording, unique even when two files share a name."""
    names, used = [], set()
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name).strip("._") or "recording"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        names.append(name)
    return names


@dataclass
class _Recording:
    index: int
    name: str
    plan: DatasetPlan
    results: dict[int, dict] = field(default_factory=dict)
    failed: list[dict] = field(default_factory=list)
    outstanding: int = 0


def build_many(inputs: list[str | os.PathLike[str]], output: str | os.PathLike[str],
               params: DatasetParams = DatasetParams(), workers: int | None = None,
               progress: ProgressFactory = silent) -> ManyResult:
    root = Path(output)
    paths, skipped = recording_inputs(inputs)
    if not paths:
        raise InputError(Path(inputs[0]) if inputs else root, "no recording among the inputs"
                         + (f" ({len(skipped)} file(s) are not recordings: see the list)" if skipped else ""))
    (root / RECORDINGS).mkdir(parents=True, exist_ok=True)
    names = folder_names(paths)
    summaries: list[dict | None] = [None] * len(paths)
    results: list[DatasetResult | None] = [None] * len(paths)
    workers = max(1, workers or os.cpu_count() or 1)
    upcoming = deque(range(len(paths)))
    queue: deque[tuple[_Recording, int, object]] = deque()
    running: dict[cf.Future, tuple[_Recording, int, object]] = {}
    bar = progress("recordings", len(paths), "recording")

    def finish(rec: _Recording) -> None:
        rec.results.update(rec.plan.complete)
        result = finish_dataset(rec.plan, rec.results, rec.failed)
        results[rec.index] = result
        summaries[rec.index] = recording_summary(names[rec.index], paths[rec.index], result)
        bar.update(1)

    def plan_next() -> None:
        index = upcoming.popleft()
        try:
            plan = plan_dataset(paths[index], root / RECORDINGS / names[index], params)
        except PipelineError as exc:
            summaries[index] = {"recording": names[index], "source": str(paths[index]), "error": str(exc)}
            bar.update(1)
            return
        rec = _Recording(index, names[index], plan, outstanding=len(plan.pending))
        if not plan.pending:
            finish(rec)
        queue.extend((rec, i, span) for i, span in plan.pending)

    pool = clip_pool(workers)
    try:
        while True:
            while upcoming and len(queue) < 2 * workers:
                plan_next()
            while queue and len(running) < 2 * workers:
                rec, i, span = queue.popleft()
                running[pool.submit(process_clip, rec.plan.job(i, span))] = (rec, i, span)
            if not running:
                if not upcoming and not queue:
                    break
                continue
            done, _ = cf.wait(running, timeout=5.0, return_when=cf.FIRST_COMPLETED)
            bar.update(0)
            for future in done:
                rec, i, span = running.pop(future)
                try:
                    rec.results[i] = future.result()
                except ClipFailed as exc:
                    rec.failed.append(failure(i, span, str(exc)))
                except Exception as exc:  # noqa: BLE001 - one clip's crash must not sink the others
                    rec.failed.append(failure(i, span, f"{type(exc).__name__}: {exc}"))
                rec.outstanding -= 1
                if rec.outstanding == 0:
                    finish(rec)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    bar.close()
    done_summaries = [s for s in summaries if s is not None]
    write_combined(root, names, results, done_summaries, skipped)
    return ManyResult(root, done_summaries, skipped, [r for r in results if r is not None])


def recording_summary(name: str, source: Path, result: DatasetResult) -> dict:
    report = result.report
    totals = report["totals"]
    sync = report.get("lip_sync") or {}
    return {"recording": name, "source": str(source), "folder": f"{RECORDINGS}/{name}",
            "clips": totals["clips"], "clip_seconds": totals["clip_seconds"], "frames": totals["frames"],
            "failed_clips": totals["failed_clips"], "dropped_segments": totals["dropped_segments"],
            "mean_score": report["score"]["mean"], "lip_sync": sync.get("verdict"),
            "lip_sync_offset_ms": sync.get("offset_ms"), "already_complete": result.skipped}


def write_combined(root: Path, names: list[str], results: list[DatasetResult | None], summaries: list[dict],
                   skipped: list[dict]) -> None:
    """The folder's manifest.jsonl over every recording, recordings.json and dataset_report.html."""
    with atomic_output(root / "manifest.jsonl") as fh:
        for name, result in zip(names, results):
            if result is None:
                continue
            for line in result.manifest:
                fh.write(json.dumps({**line, "folder": f"{RECORDINGS}/{name}"}) + "\n")
    ok = [s for s in summaries if not s.get("error")]
    totals = {"recordings": len(summaries), "failed_recordings": len(summaries) - len(ok),
              "clips": sum(s["clips"] for s in ok), "clip_seconds": round(sum(s["clip_seconds"] for s in ok), 3),
              "not_recordings": len(skipped)}
    info = {"recordings": summaries, "not_recordings": skipped, "totals": totals}
    with atomic_output(root / "recordings.json") as fh:
        fh.write(json.dumps(info, indent=1))
    with atomic_output(root / "dataset_report.html") as fh:
        fh.write(render_summary(info))


def render_summary(info: dict) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(s['recording'])}</td><td colspan=7 class=bad>{e(s['error'])}</td></tr>" if s.get("error") else
        f"<tr><td><a href=\"{e(s['folder'])}/dataset_report.html\">{e(s['recording'])}</a></td><td>{s['clips']}</td>"
        f"<td>{s['clip_seconds']:.1f}</td><td>{s['mean_score'] if s['mean_score'] is not None else ''}</td>"
        f"<td>{s['failed_clips']}</td><td>{s['dropped_segments']}</td><td>{e(str(s['lip_sync'] or ''))}</td>"
        f"<td>{'' if s['lip_sync_offset_ms'] is None else s['lip_sync_offset_ms']}</td></tr>"
        for s in info["recordings"])
    others = "".join(f"<li>{e(x['path'])}: {e(x['problem'])}</li>" for x in info["not_recordings"])
    t = info["totals"]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Dataset report: {t['recordings']} recordings</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}}table{{border-collapse:collapse}}
td,th{{border:1px solid #d9dde5;padding:.2rem .5rem;font-size:.9rem}}th{{background:#f0f2f5}}.bad{{color:#a12}}</style></head><body>
<h1>Dataset report: {t['recordings']} recordings</h1>
<p>{t['clips']} clips, {t['clip_seconds']:.1f} s of speech; {t['failed_recordings']} recording(s) could not be read.</p>
<table id="recordings"><thead><tr><th>recording</th><th>clips</th><th>speech s</th><th>mean score</th><th>failed clips</th>
<th>dropped segments</th><th>lip sync</th><th>offset ms</th></tr></thead><tbody>{rows}</tbody></table>
{f'<h2>Not recordings</h2><ul id="not-recordings">{others}</ul>' if others else ''}
</body></html>
"""
