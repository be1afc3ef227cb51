"""Quality-report figures aggregated on the server, so a report stays small and fast at 100,000 clips.

The filtered clips' numeric columns are read once into numpy arrays; every chart is then a histogram or a
binned summary of them (never a trace per clip).  Per-clip points are shipped only where they are few:
score vs duration up to POINTS_MAX clips (above that a 2-D histogram plus the lowest-scoring clips), the
clips under the threshold (the lowest LOWEST_MAX of them).

Bins are half-open [edge_i, edge_i+1) (the last one closed) and each bar links to the clip table filtered
with ``key_min=edge_i&key_max=<largest float below edge_i+1>``, so a bar's count is exactly the number
of clips its link lists.  Figures are plain Plotly JSON dicts; ``customdata`` holds the URL a click opens.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from django.conf import settings
from django.db import connection, models
from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.functions import Coalesce

from catalog.filters import METRICS
from pipeline.dataset.report import plotly_text

POINTS_MAX = 2000  # above this many clips, score vs duration becomes a 2-D histogram
LOWEST_MAX = 200  # clips under the threshold shown one by one
TIMELINE_POINTS_MAX = 2000  # a video's face-rate timeline shows clips one by one up to this many

BASE_COLUMNS = ("id", "quality_score", "duration_s", "valid_rate", "smoothness", "range_validity", "face_rate",
                "speech_ratio", "lip_sync_offset_ms", "lip_sync_confidence", "source_start_s", "frames", "face_frames")
# ... and every QC registry metric kept in Clip.quality (named quality__<name>, as filters.METRICS names them)
COLUMNS = BASE_COLUMNS + tuple(m.field for m in METRICS.values() if m.in_json)

# key in filters.METRICS (which names the column) -> (first edge, last edge, bins); None: from the data
HISTOGRAMS = {
    "score": (0.0, 100.0, 20),
    "valid": (0.0, 1.0, 20),
    "smooth": (0.0, 1.0, 20),
    "range": (0.0, 1.0, 20),
    "face": (0.0, 1.0, 20),
    "speech": (0.0, 1.0, 20),
    "avlag": (-500.0, 500.0, 20),
    "corr": (None, None, 20),
    "duration": (None, None, 20),
    **{key: (None, None, 20) for key, metric in METRICS.items() if metric.in_json},
}


@dataclass
class ClipColumns:
    """The filtered clips' numeric columns (NaN for NULL)."""

    data: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.data["id"])

    def __getitem__(self, column: str) -> np.ndarray:
        return self.data[column]


NULL = -1e308  # stands for NULL on the way out of the database (no column holds it)


@contextlib.contextmanager
def _rows(sql: str, params) -> Iterator:
    """The query's rows; on PostgreSQL taken in binary, so 100,000 rows of doubles arrive in about half the
    time it takes to parse them from text (Django's own cursors bind on the client, which psycopg allows in
    text only)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        yield cursor


def load_columns(clips: QuerySet) -> ClipColumns:
    """One query streamed from the cursor into one float array: at 100k clips building Python rows and model
    instances is what costs, not SQLite's scan."""
    array = _read_array(clips)
    return ClipColumns({name: array[:, i] for i, name in enumerate(COLUMNS)})


def _read_array(clips: QuerySet) -> np.ndarray:
    by_field = {m.field: m for m in METRICS.values()}
    exprs = {f"c_{i}": Coalesce(by_field[name].bulk_expression(connection.vendor) if name in by_field else F(name),
                                Value(NULL), output_field=FloatField()) for i, name in enumerate(COLUMNS)}
    sql, params = clips.order_by().annotate(**exprs).values_list(*exprs).query.sql_with_params()
    with _rows(sql, params) as rows:
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=float)
    array = flat.reshape(-1, len(COLUMNS))
    array[array == NULL] = np.nan
    return array



def _ids(clips: QuerySet) -> np.ndarray:
    sql, params = clips.order_by().values_list("id").query.sql_with_params()
    with _rows(sql, params) as rows:
        return np.fromiter((row[0] for row in rows), dtype=np.int64)


def dataset_columns(dataset) -> ClipColumns:
    """Every clip of ``dataset``, read once per version of its clip values and kept as a .npy file.

    The key is what changes those values: the dataset's ``clips_version`` (bumped by the importer and by
    re-scoring, the only writers of the numeric columns and the QC registry values), the clip count and
    the largest id (a clip created or deleted any other way), and the dataset's creation time (an id can
    be reused by a database that was reset).  Older versions' files are removed when a new one is written.
    """
    from catalog.models import Dataset

    key = Dataset.objects.filter(pk=dataset.pk).values_list("clips_version", flat=True).first() or 0
    stats = dataset.clips.order_by().aggregate(count=models.Count("id"), top=models.Max("id"))
    name = f"{dataset.pk}-{int(dataset.created.timestamp() * 1e6)}-{key}-{stats['count']}-{stats['top'] or 0}"
    folder = Path(settings.DATA_DIR) / "cache" / "report-columns"
    path = folder / f"{name}.npy"
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        array = _read_array(dataset.clips.all())
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{name}.{uuid.uuid4().hex}.partial"
        with open(temp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        os.replace(temp, path)
        for old in folder.glob(f"{dataset.pk}-*.npy"):
            if old != path:
                old.unlink(missing_ok=True)
    return ClipColumns({column: array[:, i] for i, column in enumerate(COLUMNS)})


def report_columns(dataset, clips: QuerySet, restricted: bool) -> ClipColumns:
    """The report's columns for ``clips`` (a filter of ``dataset.clips``): the cached dataset columns, narrowed
    to the ids the filter selects now (so tags, rejections and deletions are always current)."""
    everything = dataset_columns(dataset)
    wanted = _ids(clips)
    keep = np.isin(everything["id"], wanted.astype(float))
    if not restricted and keep.all():
        return everything
    return ClipColumns({column: values[keep] for column, values in everything.data.items()})

class Links:
    """URLs a click opens: a clip's viewer, or the clip table with the report's filter narrowed to a range."""

    def __init__(self, clip_url_pattern: str, table_url: str, query: dict[str, str]) -> None:
        self.clip_pattern = clip_url_pattern  # contains "{}" for the clip id
        self.table_url = table_url
        self.query = {k: v for k, v in query.items() if k not in ("page", "threshold")}

    def clip(self, clip_id: float) -> str:
        return self.clip_pattern.format(int(clip_id))

    def table_where(self, **values: str) -> str:
        """The clip table with the report's filter and these exact values (sync=mismatch, say)."""
        return f"{self.table_url}?{urlencode({**self.query, **values})}"

    def table(self, **bounds: tuple[float, float, bool]) -> str:
        """Clips with lo <= value < hi (<= hi when the bin is closed) per key, inside the current filter."""
        query = dict(self.query)
        for key, (lo, hi, closed) in bounds.items():
            top = hi if closed else math.nextafter(hi, -math.inf)
            current_lo, current_hi = _float(query.get(f"{key}_min")), _float(query.get(f"{key}_max"))
            query[f"{key}_min"] = repr(max(lo, current_lo) if current_lo is not None else lo)
            query[f"{key}_max"] = repr(min(top, current_hi) if current_hi is not None else top)
        return f"{self.table_url}?{urlencode(query)}"


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def finite_list(values: np.ndarray, digits: int) -> list[float | None]:
    """JSON-safe numbers: NaN (a NULL column, an empty cell) becomes None, which Plotly leaves as a gap."""
    return [round(float(v), digits) if math.isfinite(v) else None for v in values]


def bin_edges(values: np.ndarray, lo: float | None, hi: float | None, bins: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if lo is None:
        lo = 0.0
    if hi is None:
        top = float(finite.max()) if finite.size else 1.0
        step = _nice_step(top / bins)
        return np.arange(0, bins + 1) * step + lo
    return np.linspace(lo, hi, bins + 1)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw`` (readable bin widths)."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: edges[i] <= v < edges[i+1], the last bin closed; -1 outside or NaN."""
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = len(edges) - 2
    index[(index < 0) | (index >= len(edges) - 1) | ~np.isfinite(values)] = -1
    return index


def histogram_figure(columns: ClipColumns, key: str, links: Links, title: str,
                     threshold: float | None = None) -> dict:
    lo, hi, bins = HISTOGRAMS[key]
    values = columns[METRICS[key].field]
    edges = bin_edges(values, lo, hi, bins)
    index = bin_index(values, edges)
    counts = np.bincount(index[index >= 0], minlength=len(edges) - 1)
    last = len(edges) - 2
    urls = [links.table(**{key: (float(edges[i]), float(edges[i + 1]), i == last)}) for i in range(len(counts))]
    missing = int(np.count_nonzero(~np.isfinite(values)))
    outside = int(np.count_nonzero((index < 0) & np.isfinite(values)))
    trace = {"type": "bar", "x": ((edges[:-1] + edges[1:]) / 2).round(6).tolist(), "y": counts.tolist(),
             "width": float(edges[1] - edges[0]) * 0.95, "customdata": urls, "name": METRICS[key].label,
             "hovertemplate": "%{x}: %{y} clips<extra>click to list them</extra>", "marker": {"color": "#2d5bd1"}}
    layout = {"title": {"text": title}, "xaxis": {"title": {"text": METRICS[key].label},
                                                  "range": [float(edges[0]), float(edges[-1])]},
              "yaxis": {"title": {"text": "clips"}}, "bargap": 0.05, "margin": {"t": 40, "r": 10, "b": 45, "l": 50},
              "height": 260}
    if threshold is not None:
        layout["shapes"] = [{"type": "line", "x0": threshold, "x1": threshold, "yref": "paper", "y0": 0, "y1": 1,
                             "line": {"color": "#b3261e", "dash": "dash"}}]
    notes = [f"{missing} clip(s) without a value"] * bool(missing) + [f"{outside} outside the axis"] * bool(outside)
    if notes:
        layout["annotations"] = [{"text": "; ".join(notes), "xref": "paper", "yref": "paper",
                                  "x": 1, "y": 1, "showarrow": False, "font": {"size": 11}}]
    return {"data": [trace], "layout": layout, "counts": counts.tolist()}


def score_vs_duration_figure(columns: ClipColumns, links: Links, names: dict[int, str]) -> dict:
    """Every clip as a point when they are few; otherwise a 2-D histogram (cells link to the table) and
    the lowest-scoring clips on top as points."""
    duration, score = columns["duration_s"], columns["quality_score"]
    layout = {"title": {"text": "Score vs duration"}, "xaxis": {"title": {"text": "duration (s)"}},
              "yaxis": {"title": {"text": "quality score"}, "range": [0, 101]}, "height": 380,
              "margin": {"t": 40, "r": 10, "b": 45, "l": 50}}
    if len(columns) <= POINTS_MAX:
        ids = columns["id"]
        return {"data": [_clip_points(ids, duration, score, links, names, "clips")], "layout": layout}
    d_edges = bin_edges(duration, None, None, 30)
    s_edges = np.linspace(0, 100, 21)
    di, si = bin_index(duration, d_edges), bin_index(score, s_edges)
    ok = (di >= 0) & (si >= 0)
    grid = np.zeros((len(s_edges) - 1, len(d_edges) - 1), dtype=int)
    np.add.at(grid, (si[ok], di[ok]), 1)
    d_last, s_last = len(d_edges) - 2, len(s_edges) - 2
    urls = [[links.table(duration=(float(d_edges[c]), float(d_edges[c + 1]), c == d_last),
                         score=(float(s_edges[r]), float(s_edges[r + 1]), r == s_last)) if grid[r, c] else ""
             for c in range(grid.shape[1])] for r in range(grid.shape[0])]
    heat = {"type": "heatmap", "x": ((d_edges[:-1] + d_edges[1:]) / 2).round(4).tolist(),
            "y": ((s_edges[:-1] + s_edges[1:]) / 2).tolist(), "z": [[int(v) if v else None for v in row] for row in grid],
            "customdata": urls, "colorscale": "Blues", "name": "clips per cell",
            "hovertemplate": "duration %{x} s, score %{y}: %{z} clips<extra>click to list them</extra>"}
    low = lowest_rows(columns, LOWEST_MAX)
    points = _clip_points(columns["id"][low], duration[low], score[low], links, names, "lowest-scoring clips")
    points["marker"] = {"color": "#b3261e", "size": 6}
    layout["title"]["text"] = f"Score vs duration ({len(columns):,} clips binned; the lowest {len(low)} as points)"
    return {"data": [heat, points], "layout": layout}


def _clip_points(ids: np.ndarray, x: np.ndarray, y: np.ndarray, links: Links, names: dict[int, str],
                 label: str) -> dict:
    return {"type": "scattergl" if len(ids) > 500 else "scatter", "mode": "markers", "name": label,
            "x": finite_list(x, 3), "y": finite_list(y, 2),
            "text": [plotly_text(names.get(int(i), "")) for i in ids], "customdata": [links.clip(i) for i in ids],
            "hovertemplate": "%{text}<br>x %{x}, y %{y}<extra>click to open</extra>",
            "marker": {"color": "#2d5bd1", "size": 6, "opacity": 0.75}}


def face_rate_timeline_figure(columns: ClipColumns, links: Links, names: dict[int, str],
                              dropped: list[dict] | None = None, per_clip: bool = False) -> dict:
    """Face-frame rate along the recording: each clip at its start (one video, few clips), or per minute of
    recording across all clips (face frames / frames, so long clips weigh more)."""
    start, face = columns["source_start_s"], columns["face_rate"]
    layout = {"xaxis": {"title": {"text": "time in the source recording (s)"}},
              "yaxis": {"title": {"text": "face-frame rate"}, "range": [0, 1.05]}, "height": 320,
              "margin": {"t": 40, "r": 10, "b": 45, "l": 50}, "showlegend": False}
    if per_clip and len(columns) <= TIMELINE_POINTS_MAX:
        order = np.argsort(start, kind="stable")
        trace = _clip_points(columns["id"][order], start[order], face[order], links, names, "clips")
        trace["mode"] = "lines+markers"
        layout["title"] = {"text": "Face-frame rate over time (each clip at its start)"}
    else:
        width = 60.0 if not len(start) or np.nanmax(start) <= 60 * 200 else _nice_step(np.nanmax(start) / 200)
        edges = np.arange(0, (np.nanmax(start) if len(start) else 0) + width + 1e-9, width)
        if len(edges) < 2:
            edges = np.array([0.0, width])
        index = bin_index(start, edges)
        ok = index >= 0
        frames = np.bincount(index[ok], weights=columns["frames"][ok], minlength=len(edges) - 1)
        faces = np.bincount(index[ok], weights=columns["face_frames"][ok], minlength=len(edges) - 1)
        counts = np.bincount(index[ok], minlength=len(edges) - 1)
        keep = counts > 0
        last = len(edges) - 2
        urls = [links.table(start=(float(edges[i]), float(edges[i + 1]), i == last)) for i in np.flatnonzero(keep)]
        trace = {"type": "scatter", "mode": "lines+markers", "x": edges[:-1][keep].tolist(),
                 "y": np.round(faces[keep] / np.maximum(frames[keep], 1), 4).tolist(), "customdata": urls,
                 "text": [f"{n} clips" for n in counts[keep]], "marker": {"color": "#2d5bd1"},
                 "hovertemplate": "from %{x} s: %{y} (%{text})<extra>click to list them</extra>"}
        layout["title"] = {"text": f"Face-frame rate over time (clips starting in each {width:g} s of recording)"}
    # a short recording (one clip at 0 s) would get Plotly's -1..1 default: show the recording's own span
    ends = [float(np.nanmax(start + columns["duration_s"]))] if len(start) else []
    ends += [float(d["end_s"]) for d in dropped or []]
    layout["xaxis"]["range"] = [0, max(ends + [1.0]) * 1.02]
    trace["cliponaxis"] = False  # a clip at 0 s (or a face rate of 1) is a whole dot on the axis, not half of one
    if dropped:
        layout["shapes"] = [{"type": "rect", "x0": d["start_s"], "x1": d["end_s"], "yref": "paper", "y0": 0, "y1": 1,
                             "fillcolor": "#b3261e", "opacity": 0.15, "line": {"width": 0}} for d in dropped]
        layout["title"]["text"] += "; dropped segments shaded"
    return {"data": [trace], "layout": layout}


def lowest_rows(columns: ClipColumns, n: int) -> np.ndarray:
    """Row positions of the ``n`` lowest-scoring clips, lowest first."""
    return np.argsort(columns["quality_score"], kind="stable")[:n]


def lowest_ids(columns: ClipColumns, n: int) -> np.ndarray:
    return columns["id"][lowest_rows(columns, n)].astype(int)


def lowest_clips(columns: ClipColumns, threshold: float) -> tuple[int, np.ndarray]:
    """How many clips score under ``threshold``, and the ids of the lowest LOWEST_MAX of them (lowest first)."""
    score = columns["quality_score"]
    under = np.flatnonzero(score < threshold)
    order = under[np.argsort(score[under], kind="stable")][:LOWEST_MAX]
    return len(under), columns["id"][order].astype(int)


def below_threshold_figure(columns: ClipColumns, ids: np.ndarray, links: Links, names: dict[int, str],
                           threshold: float) -> dict:
    position = {int(i): k for k, i in enumerate(columns["id"].astype(int))}
    rows = [position[int(i)] for i in ids]
    score = columns["quality_score"][rows] if rows else np.array([])
    trace = _clip_points(ids, np.arange(1, len(ids) + 1), score, links, names, "clips under the threshold")
    trace["marker"] = {"color": "#b3261e", "size": 7}
    trace["hovertemplate"] = "%{text}: score %{y}<extra>click to open</extra>"
    layout = {"title": {"text": f"Clips under {threshold:g}, lowest first"}, "height": 300,
              "xaxis": {"title": {"text": "rank"}}, "yaxis": {"title": {"text": "quality score"}, "range": [0, threshold]},
              "margin": {"t": 40, "r": 10, "b": 45, "l": 50}, "showlegend": False}
    if not len(ids):
        layout["annotations"] = [_note("no clip under the threshold")]
    return {"data": [trace], "layout": layout}


def verdict_figure(counts: dict[str, int], links: Links) -> dict:
    """Clips per lip-sync verdict, in words, best first; a bar lists its clips in the table."""
    from catalog.filters import SYNC_RANK, VERDICT_WORDS

    codes = [c for c in SYNC_RANK if counts.get(c)] + ([""] if counts.get("") else [])
    return {"data": [{"type": "bar", "x": [VERDICT_WORDS.get(c, "not measured") for c in codes],
                      "y": [counts[c] for c in codes], "customdata": [links.table_where(sync=c) for c in codes if c]
                      + ([""] if "" in codes else []),
                      "marker": {"color": ["#1f7a3a" if c == "in_sync" else "#b3261e" if c == "mismatch" else "#5b6475"
                                           for c in codes]},
                      "hovertemplate": "%{x}: %{y} clips<extra>click to list them</extra>"}],
            "layout": {"title": {"text": "Lip-sync verdicts"}, "height": 300, "yaxis": {"title": {"text": "clips"}},
                       "margin": {"t": 40, "r": 10, "b": 45, "l": 50}}}


def recording_offsets_figure(reports: list[dict]) -> dict:
    """The A/V offset of each recording (its clips pooled), where it is reliable: how a dataset's sources drift."""
    syncs = [r.get("lip_sync") for r in reports if isinstance(r, dict) and isinstance(r.get("lip_sync"), dict)]
    offsets = [s["offset_ms"] for s in syncs if s.get("offset_ms") is not None]
    layout = {"title": {"text": "Audio offset per recording (pooled over its clips)"}, "height": 300,
              "xaxis": {"title": {"text": "offset (ms; positive: audio late)"}},
              "yaxis": {"title": {"text": "recordings"}}, "margin": {"t": 40, "r": 10, "b": 45, "l": 50},
              "shapes": [{"type": "rect", "x0": -90, "x1": 185, "yref": "paper", "y0": 0, "y1": 1,
                          "fillcolor": "rgba(31,122,58,0.08)", "line": {"width": 0}}]}
    unreliable = len(syncs) - len(offsets)
    if not offsets:
        layout["annotations"] = [_note(f"no recording has a reliable offset yet ({unreliable} measured)")]
    elif unreliable:
        layout["annotations"] = [{**_note(f"{unreliable} recording(s) without a reliable offset"), "y": 1.0}]
    return {"data": [{"type": "histogram", "x": offsets, "xbins": {"size": 20},
                      "hovertemplate": "%{x} ms: %{y} recordings<extra></extra>"}], "layout": layout}


def _note(text: str) -> dict:
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
            "font": {"size": 14, "color": "#5b6475"}}


def dropped_by_video_figure(videos: list[dict], video_url_pattern: str) -> dict:
    """Seconds of speech dropped per video (most first, 50 at most); a bar opens that video's report."""
    rows = sorted((v for v in videos if v["dropped_s"] > 0), key=lambda v: -v["dropped_s"])[:50]
    trace = {"type": "bar", "x": [v["name"] for v in rows], "y": [round(v["dropped_s"], 2) for v in rows],
             "text": [f"{v['dropped']} segments" for v in rows], "customdata": [video_url_pattern.format(v["id"]) for v in rows],
             "hovertemplate": "%{x}: %{y} s in %{text}<extra>click for its report</extra>", "marker": {"color": "#b3261e"}}
    layout = {"title": {"text": "Dropped speech per video"}, "height": 300,
              "yaxis": {"title": {"text": "seconds"}}, "margin": {"t": 40, "r": 10, "b": 80, "l": 50}}
    return {"data": [trace], "layout": layout}
