"""A frame-aligned Parquet export for model training: one row per video frame, one row per clip.

Layout (a directory, or the same inside a zip):

    frames/part-00000.parquet ...   one row per video frame, clips never split across parts
    clips.parquet                   one row per clip: QC components, score, lip-sync verdict, tags, split
    export.json                     how it was made: split seed and videos per split, columns, units,
                                    feature parameters, counts, clips whose files were missing

Frame rows hold the values of the clip files exactly: blendshapes and head pose after QC (the
``_qc.csv``) under their own names and before QC as ``raw_<name>``, as float32 of the CSV's decimal
text (empty cells, frames without a face, are null); the usable-frame mask (``_quality_mask.npy``);
and the audio features of the same frame from the ``.npz`` (float32, mel and MFCC as fixed-size lists); the
face box, the 478 landmarks and the transformation matrix of the frame from the ``_face.npz`` (fixed-size lists).

The split is by source video (every clip of a video is in the same split, so no speaker leaks from
training into evaluation), seeded and recorded.  Parts are built one at a time (at most
``ROWS_PER_PART`` rows or ``PART_BYTES`` of Arrow data in memory), so memory stays flat however many hours are
exported.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.face.blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES
from pipeline.dataset.blendshape_table import read_blendshape_table
from pipeline.dataset.clip_files import ClipFiles
from pipeline.dataset.clip_record import summary

FORMAT = "talking-face-training/1"
ROWS_PER_PART = 65_536
PART_BYTES = 64 << 20  # a part is also closed at this much Arrow data (a frame with its landmarks is ~6 KB)
CURVES: tuple[str, ...] = MEDIAPIPE_NAMES + HEAD_POSE_NAMES
LIST_FEATURES = {"mel": 80, "mfcc": 13}
SCALAR_FEATURES = ("f0", "voicing", "rms", "zcr", "spectral_centroid")
SPLITS = ("train", "validation", "test")
DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


@dataclass
class ExportClip:
    """One clip to export: where its files are and what the catalog knows about it."""

    clip_id: int
    name: str  # clip_0000
    source: str  # the recording's file name
    video: str  # the split group: one source recording (so one speaker's session) per value
    files: ClipFiles
    info: dict = field(default_factory=dict)  # clip-level columns (quality, verdict, tags, ...)
    file_hashes: dict = field(default_factory=dict)  # role -> sha256 (for the export's content hash)


def assign_splits(videos: Iterable[str], seed: int = 0, fractions: dict[str, float] | None = None,
                  holdout: Iterable[str] = ()) -> dict[str, str]:
    """Video -> split.  Videos are ordered by a seeded hash; the first go to test, the next to validation.

    With three or more videos, test and validation get at least one each.  ``holdout`` videos go to
    test whatever the hash says (to hold out chosen speakers).
    """
    fractions = {**DEFAULT_FRACTIONS, **(fractions or {})}
    held = sorted(set(holdout))
    rest = sorted(set(videos) - set(held), key=lambda v: hashlib.sha256(f"{seed}:{v}".encode()).hexdigest())
    total = len(rest) + len(held)
    n_test = max(round(total * fractions["test"]), 1 if total >= 3 else 0) - len(held)
    n_val = max(round(total * fractions["validation"]), 1 if total >= 3 else 0)
    n_test = max(n_test, 0)
    splits = {v: "test" for v in held}
    for index, video in enumerate(rest):
        splits[video] = "test" if index < n_test else "validation" if index < n_test + n_val else "train"
    return splits


def assign_grouped_splits(videos: Iterable[str], shared: Iterable[tuple[str, str]], seed: int = 0,
                          fractions: dict[str, float] | None = None, holdout: Iterable[str] = ()) -> dict[str, str]:
    """assign_splits over groups of videos that share footage (pipeline.dataset.shared_footage): a group is in one
    split, and a held-out video takes its whole group to test."""
    from pipeline.dataset.shared_footage import split_groups

    groups = split_groups(set(videos), shared)
    held = {groups[v] for v in holdout if v in groups}
    by_group = assign_splits(sorted(set(groups.values())), seed, fractions, holdout=held)
    return {v: by_group[g] for v, g in groups.items()}


def folder_shared_footage(clips: Iterable[ExportClip]) -> list[dict]:
    """The pairs of split groups (videos) of a make_dataset folder whose recordings share footage, from the
    fingerprints in their folders: {"a", "b", "start_a_s", "start_b_s", "duration_s", "bit_error_rate"}."""
    from pipeline.dataset.shared_footage import pairs_sharing, read_fingerprint

    roots = {}
    for clip in clips:
        roots.setdefault(clip.video, clip.files.root)
    prints = {video: fp for video, root in roots.items() if (fp := read_fingerprint(root)) is not None}
    return [{"a": a, "b": b, **shared.as_dict()} for a, b, shared in pairs_sharing(prints)]


def _read_curves(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """frame, time_s, face and the CURVES columns (float64, NaN where empty) of a blendshape CSV."""
    table = read_blendshape_table(path, CURVES)
    return table.frame.astype(np.int32), table.time_s, table.face, table.matrix(CURVES)


def clip_frames(clip: ExportClip, split: str, fps: float | None = None):
    """The frame rows of one clip as a pyarrow Table (raises OSError/ValueError when a file is unreadable).

    With ``fps``, the rows are new frames at k / fps (pipeline.training.resample): values interpolated from the
    PTS, ``usable`` only where both source frames are, audio features computed again on the new times."""
    import pyarrow as pa

    frame, time_s, face, clean = _read_curves(clip.files.blendshapes_qc)
    raw_frame, _, _, raw = _read_curves(clip.files.blendshapes)
    usable = np.load(clip.files.quality_mask).astype(bool)
    n = frame.size
    with np.load(clip.files.audio_features, allow_pickle=False) as npz:
        features = {name: np.asarray(npz[name], np.float32) for name in (*LIST_FEATURES, *SCALAR_FEATURES)
                    if name in npz.files}
        params_json = str(npz["params"]) if "params" in npz.files else None
    if raw_frame.size != n or usable.size != n or any(a.shape[0] != n for a in features.values()):
        raise ValueError(f"{clip.name}: its files disagree on the number of frames "
                         f"(blendshapes {n}, raw {raw_frame.size}, mask {usable.size}, "
                         f"features {sorted({a.shape[0] for a in features.values()})})")
    face_data = read_face_arrays(clip, n)
    if fps:
        from pipeline.training.resample import Resampler, recompute_features

        at = Resampler.between(time_s, fps)
        clean, raw, face, usable = at.values(clean), at.values(raw), at.both(face), at.both(usable)
        face_data = {k: at.values(v) for k, v in face_data.items()}
        time_s = at.times
        frame = np.round(time_s * fps).astype(np.int32)  # the frame's number on the new rate's grid
        recomputed = recompute_features(clip.files.audio, params_json, time_s)
        features = {k: np.asarray(recomputed[k], np.float32) for k in features}
        n = time_s.size
    start = float(clip.info.get("source_start_s") or 0.0)
    columns: dict[str, pa.Array] = {
        "clip_id": pa.array(np.full(n, clip.clip_id, np.int64)),
        "clip": pa.array([clip.name] * n, pa.string()).dictionary_encode(),
        "source": pa.array([clip.source] * n, pa.string()).dictionary_encode(),
        "video": pa.array([clip.video] * n, pa.string()).dictionary_encode(),
        "split": pa.array([split] * n, pa.string()).dictionary_encode(),
        "frame": pa.array(frame),
        "time_s": pa.array(time_s),
        "source_time_s": pa.array(np.round(start + time_s, 6)),
        "face": pa.array(face),
        "usable": pa.array(usable),
    }
    for prefix, values in (("", clean), ("raw_", raw)):
        for j, name in enumerate(CURVES):
            column = values[:, j]
            columns[prefix + name] = pa.array(column.astype(np.float32), mask=np.isnan(column))
    for name, width in LIST_FEATURES.items():
        if name in features:
            flat = pa.array(features[name].reshape(-1))
            columns[name] = pa.FixedSizeListArray.from_arrays(flat, width)
    for name in SCALAR_FEATURES:
        if name in features:
            columns[name] = pa.array(features[name].reshape(-1))
    for name, (key, width) in FACE_COLUMNS.items():
        if key in face_data:
            flat = pa.array(np.asarray(face_data[key], np.float32).reshape(-1))
            columns[name] = pa.FixedSizeListArray.from_arrays(flat, width)
    return pa.table(columns)


FACE_COLUMNS = {"face_box_px": ("box_px", 4), "landmarks": ("landmarks", 478 * 3), "face_matrix": ("matrix", 16)}


def read_face_arrays(clip: ExportClip, n: int) -> dict[str, np.ndarray]:
    """The clip's per-frame face data (pipeline.face.face_data): box, landmarks, matrix, NaN without a face;
    {} for a clip written before it existed (export.json lists those clips)."""
    from pipeline.face.face_data import read_face_data

    if not clip.files.face.is_file():
        return {}
    face = read_face_data(clip.files.face)
    if face["landmarks"].shape[0] != n:
        raise ValueError(f"{clip.name}: its face data has {face['landmarks'].shape[0]} frames, its table {n}")
    return {key: face[key] for key, _ in FACE_COLUMNS.values()}


CLIP_COLUMNS = ("clip_id", "clip", "source", "video", "split", "source_start_s", "source_end_s", "duration_s",
                "fps", "frames", "face_rate", "quality_score", "lip_sync_verdict", "lip_sync_offset_ms",
                "lip_sync_confidence", "face_speaking", "muted", "rejected")


def _clips_table(rows: list[dict]):
    import pyarrow as pa

    quality_names = sorted({k for r in rows for k, v in (r.get("quality") or {}).items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)})
    columns = {name: [r.get(name) for r in rows] for name in CLIP_COLUMNS}
    for name in quality_names:
        columns[f"quality_{name}"] = [(r.get("quality") or {}).get(name) for r in rows]
    columns["quality_reasons"] = [list(r.get("quality_reasons") or []) for r in rows]
    columns["tags"] = [list(r.get("tags") or []) for r in rows]
    return pa.table({k: pa.array(v) if k not in ("quality_reasons", "tags") else pa.array(v, pa.list_(pa.string()))
                     for k, v in columns.items()})


def _parquet_bytes(table) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", row_group_size=ROWS_PER_PART)
    return sink.getvalue()


def export_entries(clips: Iterable[ExportClip], splits: dict[str, str], *, seed: int,
                   fractions: dict[str, float] | None = None, describe: dict | None = None,
                   rows_per_part: int = ROWS_PER_PART, fps: float | None = None) -> Iterator[tuple[str, bytes]]:
    """(relative path, bytes) of every file of the export, parts first, built one part at a time (``fps``: frames
    resampled to that rate, see clip_frames)."""
    import pyarrow as pa

    pending, pending_rows, pending_bytes, part = [], 0, 0, 0
    clip_rows: list[dict] = []
    missing: list[dict] = []
    without_face: list[str] = []  # clips written before the face data existed: its columns are null there
    frames_per_split = dict.fromkeys(SPLITS, 0)
    content = hashlib.sha256()
    feature_params = None
    for clip in clips:
        split = splits.get(clip.video, "train")
        try:
            table = clip_frames(clip, split, fps)
        except (OSError, ValueError, KeyError) as exc:  # listed, never silently left out
            missing.append({"clip_id": clip.clip_id, "clip": clip.name, "source": clip.source,
                            "problem": f"{type(exc).__name__}: {exc}"})
            continue
        if feature_params is None:
            feature_params = _feature_params(clip.files.audio_features)
        if "landmarks" not in table.column_names:
            without_face.append(clip.name)
        content.update(json.dumps([clip.clip_id, sorted(clip.file_hashes.items())]).encode())
        frames_per_split[split] += table.num_rows
        clip_rows.append({**clip.info, "clip_id": clip.clip_id, "clip": clip.name, "source": clip.source,
                          "video": clip.video, "split": split})
        pending.append(table)
        pending_rows += table.num_rows
        pending_bytes += table.nbytes
        if pending_rows >= rows_per_part or pending_bytes >= PART_BYTES:
            yield f"frames/part-{part:05d}.parquet", _parquet_bytes(pa.concat_tables(pending, promote_options="default"))
            pending, pending_rows, pending_bytes, part = [], 0, 0, part + 1
    if pending:
        yield f"frames/part-{part:05d}.parquet", _parquet_bytes(pa.concat_tables(pending, promote_options="default"))
        part += 1
    yield "clips.parquet", _parquet_bytes(_clips_table(clip_rows))
    by_split = {name: sorted(v for v, s in splits.items() if s == name) for name in SPLITS}
    info = {
        "format": FORMAT,
        **(describe or {}),
        "split": {"by": "source video", "seed": seed, "fractions": {**DEFAULT_FRACTIONS, **(fractions or {})},
                  "videos": by_split},
        "fps": fps or "each clip's own (see clips.parquet)",
        "counts": {"clips": len(clip_rows), "parts": part, "frames": frames_per_split},
        "empty_splits": empty_splits(frames_per_split),
        "content_sha256": content.hexdigest(),
        "missing_clips": missing,
        "clips_without_face_data": without_face,
        "columns": {
            "clip_id, clip, source, video, split": "which clip, recording and split the frame belongs to",
            "frame, time_s": "frame index in the clip and its presentation time from the clip's start (s)",
            "source_time_s": "the same instant on the source recording's timeline (s)",
            "face": "a face was tracked in this frame",
            "usable": "the quality mask: tracked and not a repaired glitch or a long interpolated gap",
            "<52 blendshapes>, head_yaw/pitch/roll": "after QC (the _qc.csv); head pose in degrees; null: no face",
            "raw_<name>": "as MediaPipe gave them, before QC",
            "mel": "80 log-mel bands, dB (ref 1, amin 1e-10)",
            "mfcc": "13 MFCC from that log-mel",
            "f0, voicing": "WORLD DIO + StoneMask F0 in Hz (0 when unvoiced) and the voicing flag",
            "rms, zcr, spectral_centroid": "frame RMS, zero-crossing rate, magnitude-weighted centroid (Hz)",
            "face_box_px": "face box x0, y0, x1, y1 in source pixels (NaN: no face)",
            "landmarks": "MediaPipe's 478 landmarks, x, y, z flattened (x, y: fractions of the frame; NaN: no face)",
            "face_matrix": "MediaPipe's facial transformation matrix, row-major 4x4 (NaN: no face)",
        },
        "feature_params": feature_params,
    }
    yield "export.json", json.dumps(info, indent=1, default=str).encode()


def empty_splits(frames_per_split: dict[str, int]) -> list[str]:
    """The splits with no frame, each said in words (an export of fewer than 3 videos has no validation or test)."""
    return [f"{name}: no frames (the split is by source video; {name} needs its own video)"
            for name in SPLITS if not frames_per_split.get(name)]


def split_plan(splits: dict[str, str]) -> dict[str, int]:
    """Videos per split, as assign_splits gave them (for a form to say before the export what will be empty)."""
    return {name: sum(1 for s in splits.values() if s == name) for name in SPLITS}


def _feature_params(path: Path) -> dict | None:
    with np.load(path, allow_pickle=False) as npz:
        if "params" not in npz.files:
            return None
        try:
            return json.loads(str(npz["params"]))
        except ValueError:
            return None


def write_export(entries: Iterable[tuple[str, bytes]], out_dir: Path) -> Path:
    """Write the entries under a temporary folder next to ``out_dir``, then rename it into place."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} already exists")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, data in entries:
            target = temp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.replace(temp, out_dir)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out_dir


def clips_from_folder(root: Path) -> list[ExportClip]:
    """The complete clips of a make_dataset output folder (its manifest.jsonl), as ExportClips; in a folder of many
    recordings each line names its recording's ``folder``, which is then the clip's split group."""
    root = Path(root)
    clips = []
    for number, line in enumerate((root / "manifest.jsonl").read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        entry = json.loads(line)
        files = entry.get("files") or {}
        folder = root / entry["folder"] if entry.get("folder") else root  # a many-recording folder (multi_build)
        clips.append(ExportClip(
            clip_id=number, name=entry["clip"], source=str(entry.get("source", "")),
            video=str(entry.get("folder") or entry.get("source", "")), files=ClipFiles(folder, entry["clip"]),
            info=summary(entry),
            file_hashes={role: f.get("sha256") for role, f in files.items()}))
    return clips
