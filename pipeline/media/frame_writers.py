"""Per-frame blendshape tables: CSV (default), JSON and ARKit/Live Link Face CSV.

Every writer streams: one row per frame as it arrives, nothing accumulated.
Faceless frames are rows too, with ``face=0`` and empty (CSV) or null (JSON)
values, never zeros.
"""
from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from pipeline.face.blendshape_names import ARKIT_NAMES, HEAD_POSE_NAMES, MEDIAPIPE_NAMES, arkit_to_mediapipe_index


@dataclass(frozen=True)
class FrameRecord:
    frame: int
    time_s: float
    face: bool
    blendshapes: np.ndarray | None  # (52,) MEDIAPIPE_NAMES order
    head_pose: np.ndarray | None  # (3,) yaw, pitch, roll, degrees
    geometry: np.ndarray | None = None  # (6,) face_geometry.GEOMETRY_NAMES; not written by the table writers
    landmarks: np.ndarray | None = None  # (478, 3) normalised; the clip's face file keeps them (pipeline.face.face_data)
    matrix: np.ndarray | None = None  # (4, 4) facial transformation matrix; likewise


def _num(value: float, digits: int = 6) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.{digits}f}"


class FrameWriter:
    """Base: ``write`` one record, ``close`` with a summary (a dict, may be ignored)."""

    def __init__(self, handle: IO[str], meta: dict[str, Any]) -> None:
        self.handle = handle
        self.meta = meta

    def write(self, record: FrameRecord) -> None:
        raise NotImplementedError

    def close(self, summary: dict[str, Any]) -> None:
        pass


class CsvFrameWriter(FrameWriter):
    """``frame,time_s,face``, the 52 MediaPipe names in model order, head yaw/pitch/roll (degrees)."""

    COLUMNS = ("frame", "time_s", "face", *MEDIAPIPE_NAMES, *HEAD_POSE_NAMES)
    EMPTY = [""] * (len(MEDIAPIPE_NAMES) + len(HEAD_POSE_NAMES))

    def __init__(self, handle: IO[str], meta: dict[str, Any]) -> None:
        super().__init__(handle, meta)
        self._csv = csv.writer(handle, lineterminator="\n")
        self._csv.writerow(self.COLUMNS)

    def write(self, r: FrameRecord) -> None:
        row = [str(r.frame), f"{r.time_s:.6f}", "1" if r.face else "0"]
        if r.face and r.blendshapes is not None:
            row += [_num(v) for v in r.blendshapes.tolist()]
            row += [_num(v, 4) for v in r.head_pose.tolist()] if r.head_pose is not None else ["", "", ""]
        else:
            row += self.EMPTY
        self._csv.writerow(row)


class JsonFrameWriter(FrameWriter):
    """One JSON document: metadata, ``frames`` (values as lists in name order, null without a face), summary."""

    def __init__(self, handle: IO[str], meta: dict[str, Any]) -> None:
        super().__init__(handle, meta)
        header = dict(meta, blendshape_names=list(MEDIAPIPE_NAMES), head_pose_names=list(HEAD_POSE_NAMES),
                      head_pose_units="degrees")
        head = json.dumps(header, indent=1)
        handle.write(head[:-2] + ',\n "frames": [')  # reopen the object to stream the frames into it
        self._first = True

    @staticmethod
    def _values(array: np.ndarray | None, digits: int) -> list[float | None] | None:
        if array is None:
            return None
        return [None if math.isnan(v) else round(v, digits) for v in array.tolist()]

    def write(self, r: FrameRecord) -> None:
        item = {
            "frame": r.frame,
            "time_s": round(r.time_s, 6),
            "face": int(r.face),
            "blendshapes": self._values(r.blendshapes if r.face else None, 6),
            "head_pose": self._values(r.head_pose if r.face else None, 4),
        }
        self.handle.write(("\n  " if self._first else ",\n  ") + json.dumps(item, separators=(",", ":")))
        self._first = False

    def close(self, summary: dict[str, Any]) -> None:
        self.handle.write('\n ],\n "summary": ' + json.dumps(summary) + "\n}\n")


class ArkitCsvWriter(FrameWriter):
    """The Live Link Face CSV layout: Timecode, BlendShapeCount, ARKit's 52 names, head and eye rotation.

    ``TongueOut`` and the eye rotation columns stay empty (the model does not
    produce them); head rotation is in radians as ARKit reports it.  A frame
    without a face keeps its row with ``BlendShapeCount`` 0 and empty values.
    """

    EYE_COLUMNS = ("LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
    COLUMNS = ("Timecode", "BlendShapeCount", *ARKIT_NAMES, "HeadYaw", "HeadPitch", "HeadRoll", *EYE_COLUMNS)
    SHAPE_COUNT = len(ARKIT_NAMES) + 3 + 6  # 61, as Live Link Face writes it

    def __init__(self, handle: IO[str], meta: dict[str, Any]) -> None:
        super().__init__(handle, meta)
        self._index = arkit_to_mediapipe_index()
        self._fps = float(meta.get("fps") or 30.0)
        self._csv = csv.writer(handle, lineterminator="\n")
        self._csv.writerow(self.COLUMNS)

    def timecode(self, time_s: float) -> str:
        """HH:MM:SS:FF.mmm from the frame's PTS (FF at the nominal rate, .mmm the fraction of a frame)."""
        whole = int(math.floor(max(time_s, 0.0)))
        frames = (max(time_s, 0.0) - whole) * self._fps
        ff = int(frames)
        sub = min(int(round((frames - ff) * 1000)), 999)
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}.{sub:03d}"

    def write(self, r: FrameRecord) -> None:
        row = [self.timecode(r.time_s)]
        if r.face and r.blendshapes is not None:
            values = r.blendshapes.tolist()
            row.append(str(self.SHAPE_COUNT))
            row += ["" if i is None else _num(values[i]) for i in self._index]
            pose = r.head_pose.tolist() if r.head_pose is not None else [math.nan] * 3
            row += [_num(math.radians(v)) for v in pose]
        else:
            row.append("0")
            row += [""] * (len(ARKIT_NAMES) + 3)
        row += [""] * len(self.EYE_COLUMNS)
        self._csv.writerow(row)


WRITERS: dict[str, Callable[[IO[str], dict[str, Any]], FrameWriter]] = {
    "csv": CsvFrameWriter,
    "json": JsonFrameWriter,
    "arkit": ArkitCsvWriter,
}
