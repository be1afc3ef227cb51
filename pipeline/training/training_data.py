"""Load a training export (pipeline/training/training_export.py) as NumPy arrays or as windows for a model.

    from pipeline.training.training_data import TrainingExport, FrameWindows

    export = TrainingExport("my_export")            # the folder, or the downloaded .zip itself
    train = FrameWindows(export, split="train", window=25, context=5)
    audio, target, mask = train[0]                 # (35, 80) log-mel, (25, 52) blendshapes, (25,) usable
    X, Y = train.stacked()                         # every usable frame: (n, 11*80) and (n, 52)

``FrameWindows`` is a PyTorch-style dataset (``len`` and indexing, NumPy out; wrap it in a
``torch.utils.data.DataLoader`` as it is).  Windows never cross a clip boundary; the audio context
at a clip's edges repeats the edge frame.  With ``usable_only`` (the default) a window is offered
only when every one of its target frames is usable (tracked, not a repaired glitch).
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.face.blendshape_names import MEDIAPIPE_NAMES


class TrainingExport:
    """The files of one export, from its folder or its zip."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path) if self.path.is_file() else None
        names = self._zip.namelist() if self._zip else [p.relative_to(self.path).as_posix()
                                                        for p in self.path.rglob("*") if p.is_file()]
        self._prefix = ""
        info_name = next((n for n in names if n.endswith("export.json")), None)
        if info_name is None:
            raise ValueError(f"{self.path}: no export.json here: not a training export")
        self._prefix = info_name[: -len("export.json")]
        self.parts = sorted(n for n in names if n.startswith(self._prefix + "frames/") and n.endswith(".parquet"))
        self.info = json.loads(self._open(info_name).read())

    def _open(self, name: str):
        return self._zip.open(name) if self._zip else open(self.path / name, "rb")

    def frames(self, columns: list[str] | None = None, split: str | None = None):
        """Frame rows as one pyarrow Table (all parts, or the rows of one split)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        wanted = None if columns is None else list(dict.fromkeys([*columns, *(["split"] if split else [])]))
        tables = []
        for name in self.parts:
            with self._open(name) as fh:
                table = pq.read_table(fh, columns=wanted)
            if split is not None:
                table = table.filter(pc.equal(table["split"], split))
            tables.append(table)
        if not tables:
            raise ValueError(f"{self.path}: the export has no frames")
        return pa.concat_tables(tables, promote_options="default")

    def clips(self):
        import pyarrow.parquet as pq

        with self._open(self._prefix + "clips.parquet") as fh:
            return pq.read_table(fh)


def feature_matrix(table, features: tuple[str, ...]) -> np.ndarray:
    """(frames, dims) float32 of the named audio features of a frames table (mel/mfcc lists flattened)."""
    import pyarrow as pa

    blocks = []
    for name in features:
        column = table[name].combine_chunks()
        width = column.type.list_size if pa.types.is_fixed_size_list(column.type) else 1
        values = column.flatten().to_numpy() if width > 1 or pa.types.is_fixed_size_list(column.type) \
            else column.to_numpy(zero_copy_only=False)
        blocks.append(np.asarray(values, np.float32).reshape(table.num_rows, width))
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((table.num_rows, 0), np.float32)


def target_matrix(table, targets: tuple[str, ...]) -> np.ndarray:
    """(frames, targets) float32; NaN where the value is null (no face)."""
    if table.num_rows == 0:
        return np.zeros((0, len(targets)), np.float32)
    return np.column_stack([np.asarray(table[name].to_numpy(zero_copy_only=False), np.float32)
                            for name in targets]).astype(np.float32)


def clip_bounds(clip_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the first and last row of its clip (rows of a clip are contiguous)."""
    n = clip_ids.size
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(clip_ids)) + 1]
    ends = np.r_[starts[1:], n]
    return np.repeat(starts, ends - starts), np.repeat(ends - 1, ends - starts)


def context_stack(features: np.ndarray, clip_ids: np.ndarray, context: int) -> np.ndarray:
    """Each frame's features with ``context`` frames either side, edge frames repeated within a clip."""
    if context == 0:
        return features
    first, last = clip_bounds(clip_ids)
    index = np.arange(features.shape[0])
    return np.concatenate([features[np.clip(index + k, first, last)] for k in range(-context, context + 1)], axis=1)


@dataclass
class FrameWindows:
    export: TrainingExport
    split: str | None = "train"
    window: int = 25
    context: int = 5
    features: tuple[str, ...] = ("mel",)
    targets: tuple[str, ...] = MEDIAPIPE_NAMES
    usable_only: bool = True

    def __post_init__(self) -> None:
        table = self.export.frames(["clip_id", "usable", *self.features, *self.targets], split=self.split)
        self.clip_ids = table["clip_id"].to_numpy()
        self.usable = table["usable"].to_numpy(zero_copy_only=False).astype(bool)
        self.audio = feature_matrix(table, self.features)
        self.target = target_matrix(table, self.targets)
        self.first, self.last = clip_bounds(self.clip_ids)
        self.starts = self._window_starts()

    def _window_starts(self) -> np.ndarray:
        n, w = self.clip_ids.size, self.window
        if n < w:
            return np.zeros(0, np.int64)
        same_clip = self.clip_ids[: n - w + 1] == self.clip_ids[w - 1:]
        ok = same_clip
        if self.usable_only:
            bad = np.r_[0, np.cumsum(~self.usable)]
            ok = ok & (bad[w:] - bad[: n - w + 1] == 0)
        return np.flatnonzero(ok)

    def __len__(self) -> int:
        return int(self.starts.size)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = int(self.starts[i])
        b = a + self.window
        # the clip's real neighbouring frames where they exist, else its edge frame repeated
        rows = np.clip(np.arange(a - self.context, b + self.context), self.first[a], self.last[a])
        return self.audio[rows], self.target[a:b], self.usable[a:b]

    def stacked(self) -> tuple[np.ndarray, np.ndarray]:
        """Every usable frame as one row: features with ``context`` frames either side, and its targets."""
        x = context_stack(self.audio, self.clip_ids, self.context)
        keep = self.usable & ~np.isnan(self.target).any(axis=1)
        return x[keep], self.target[keep]
