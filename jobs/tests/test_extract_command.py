"""`manage.py extract` as a user runs it: exit codes, one-line errors, atomic output."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testing.media_factory import remux, truncate, write_audio_only
from testing.support import REPO, assert_one_line_error, read_table


def run_extract(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "extract", "--no-progress", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )


def only_files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_extract_writes_csv_and_reports(media, tmp_path):
    out = tmp_path / "face2.csv"
    proc = run_extract("--video", str(media("retalk_face2.mp4")), "--output", str(out), "--smooth", "yes")
    assert proc.returncode == 0, proc.stderr
    assert "125 frames, 125 with a face" in proc.stdout
    rows = read_table(out)
    assert len(rows) == 125
    assert only_files(tmp_path) == ["face2.csv"]


def test_missing_file(tmp_path):
    proc = run_extract("--video", str(tmp_path / "absent.mp4"), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(proc, "absent.mp4", "file not found")
    assert only_files(tmp_path) == []


def test_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are meeting notes, not a video\n" * 50)
    proc = run_extract("--video", str(fake), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(proc, "notes.mp4", "not a readable video file")
    assert only_files(tmp_path) == ["notes.mp4"]


def test_no_video_stream(tmp_path):
    wav = write_audio_only(tmp_path / "voice.wav")
    proc = run_extract("--video", str(wav), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(proc, "voice.wav", "no video stream", "audio")
    assert only_files(tmp_path) == ["voice.wav"]


def test_zero_length_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    proc = run_extract("--video", str(empty), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(proc, "empty.mp4", "empty (0 bytes)")


def test_directory_as_input(tmp_path):
    proc = run_extract("--video", str(tmp_path), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(proc, str(tmp_path), "is a directory")


def test_truncated_video_keeps_what_decodes(media, tmp_path):
    whole = remux(media("retalk_face1.mp4"), tmp_path / "whole.mp4")
    cut = truncate(whole, tmp_path / "cut.mp4", 0.6)
    out = tmp_path / "cut.csv"
    proc = run_extract("--video", str(cut), "--output", str(out))
    line = assert_one_line_error(proc, "cut.mp4", "decoding stopped after frame", "truncated", code=3)
    rows = read_table(out)
    assert 40 < len(rows) < 135
    assert f"wrote the {len(rows)} frames" in line
    assert f"after frame {len(rows) - 1} " in line
    assert all(r["face"] == "1" for r in rows)


def test_truncated_without_index_cannot_open(media, tmp_path):
    # moov at the end (as most cameras write it): a cut file has no index at all
    cut = truncate(media("retalk_face1.mp4"), tmp_path / "cut_end.mp4", 0.5)
    proc = run_extract("--video", str(cut), "--output", str(tmp_path / "o.csv"))
    assert_one_line_error(proc, "cut_end.mp4", "truncated")
    assert only_files(tmp_path) == ["cut_end.mp4"]


def test_output_folder_missing(media, tmp_path):
    proc = run_extract("--video", str(media("retalk_face3.mp4")), "--output", str(tmp_path / "no" / "o.csv"))
    assert_one_line_error(proc, "o.csv", "does not exist")


def test_output_parent_is_a_file(media, tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder should be")
    proc = run_extract("--video", str(media("retalk_face3.mp4")), "--output", str(blocker / "o.csv"))
    assert_one_line_error(proc, "o.csv", "is not a folder")


def test_output_is_a_directory(media, tmp_path):
    proc = run_extract("--video", str(media("retalk_face3.mp4")), "--output", str(tmp_path))
    assert_one_line_error(proc, str(tmp_path), "is a directory")


def test_output_unwritable_device(media, tmp_path):
    # /proc accepts no new files, even for root: the error names the output and nothing is left behind
    proc = run_extract("--video", str(media("retalk_face3.mp4")), "--output", "/proc/blendshapes.csv")
    assert_one_line_error(proc, "/proc/blendshapes.csv")


def test_missing_model(media, tmp_path):
    proc = run_extract("--video", str(media("retalk_face3.mp4")), "--output", str(tmp_path / "o.csv"),
                       "--model", str(tmp_path / "nomodel.task"))
    assert_one_line_error(proc, "nomodel.task", "model file not found", "--model")
    assert only_files(tmp_path) == []


def test_corrupt_model_from_environment(media, tmp_path):
    bad = tmp_path / "face_landmarker.task"
    data = bytearray((REPO / "models" / "face_landmarker.task").read_bytes())
    data[1000:1100] = b"\0" * 100
    bad.write_bytes(bytes(data))
    proc = run_extract("--video", str(media("retalk_face3.mp4")), "--output", str(tmp_path / "o.csv"),
                       env={"FACE_LANDMARKER_MODEL": str(bad),
                            "FACE_LANDMARKER_SHA256": "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"})
    assert_one_line_error(proc, "face_landmarker.task", "sha256", "expected")
    assert not (tmp_path / "o.csv").exists()


def test_model_override_by_path(media, tmp_path):
    copy = tmp_path / "copy.task"
    shutil.copy(REPO / "models" / "face_landmarker.task", copy)
    out = tmp_path / "o.json"
    proc = run_extract("--video", str(media("pyfeat_single_face.mp4")), "--output", str(out),
                       "--model", str(copy), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
