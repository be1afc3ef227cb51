"""The README's loading example runs as written, also on an export whose test split is empty (one video)."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from pipeline.training.trainer_layouts import LayoutOptions, layout_entries
from pipeline.training.training_export import assign_splits, clips_from_folder, write_export

README = Path(__file__).resolve().parents[3] / "README.md"


def loading_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return next(b for b in blocks if "FrameWindows(export, split=\"test\"" in b)


def test_the_loading_example_handles_an_empty_test_split(talk3_dataset, tmp_path):
    clips = clips_from_folder(talk3_dataset.root)
    out = write_export(layout_entries("parquet", clips, assign_splits({c.video for c in clips}), LayoutOptions()),
                       tmp_path / "talks-training")
    code = loading_example().replace('"talks-training.zip"', repr(str(out)))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    assert "test: no frames" in printed.getvalue()
