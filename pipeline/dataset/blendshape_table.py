"""The one reader of a blendshape CSV as `extract` and `make_dataset` write it (pipeline.media.frame_writers)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class BlendshapeTable:
    frame: np.ndarray  # int
    time_s: np.ndarray  # float64: the frame's PTS in the clip
    face: np.ndarray  # bool
    values: dict[str, np.ndarray]  # the columns asked for that the file has: float64, NaN where empty

    def matrix(self, names) -> np.ndarray:
        """(frames, len(names)) float64 of those columns (NaN for a column the file lacks)."""
        nan = np.full(self.time_s.size, np.nan)
        if not names:
            return np.zeros((self.time_s.size, 0))
        return np.column_stack([self.values.get(name, nan) for name in names])


def read_blendshape_table(path: str | Path, names=()) -> BlendshapeTable:
    """frame, time_s, face and the named columns (those present) of a blendshape CSV.

    pyarrow parses it (correctly rounded, like Python's float()), about 20x faster than the csv module."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    with open(path, "rb") as fh:
        header = fh.readline().decode("utf-8").strip().split(",")
    wanted = [name for name in dict.fromkeys(names) if name in header]
    types = {"frame": pa.int64(), "time_s": pa.float64(), "face": pa.int8(), **dict.fromkeys(wanted, pa.float64())}
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=types, include_columns=list(types), strings_can_be_null=True))
    values = {name: table[name].to_numpy(zero_copy_only=False).astype(np.float64) for name in wanted}
    return BlendshapeTable(table["frame"].to_numpy(), table["time_s"].to_numpy(zero_copy_only=False),
                           table["face"].to_numpy(zero_copy_only=False) == 1, values)
