"""`manage.py make_dataset` as a user runs it: bad inputs, empty datasets, kill and resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from testing.media_factory import write_audio_only, write_av
from testing.support import REPO, assert_one_line_error


def make_dataset(*args: str, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "make_dataset", "--no-progress", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=600, **popen)


def speechless_files(root) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_no_audio_track(tmp_path):
    video = write_av(tmp_path / "silent_film.mp4", 2.0, None)
    proc = make_dataset(str(video), "-o", str(tmp_path / "ds"))
    assert_one_line_error(proc, "silent_film.mp4", "no audio track", "needs audio")
    assert not (tmp_path / "ds").exists()


def test_no_video_track(tmp_path):
    wav = write_audio_only(tmp_path / "podcast.wav", seconds=2.0)
    proc = make_dataset(str(wav), "-o", str(tmp_path / "ds"))
    assert_one_line_error(proc, "podcast.wav", "no video stream")


def test_audio_shorter_than_video(tmp_path):
    video = write_av(tmp_path / "short_audio.mp4", 4.0, np.zeros(16000, np.float32))
    proc = make_dataset(str(video), "-o", str(tmp_path / "ds"))
    assert_one_line_error(proc, "short_audio.mp4", "audio shorter than video", "--pad_short_audio")
    assert not list((tmp_path / "ds").rglob("*.mp4"))


def test_short_audio_kept_with_pad_short_audio(tmp_path):
    video = write_av(tmp_path / "short_audio.mp4", 4.0, np.zeros(16000, np.float32))
    proc = make_dataset(str(video), "-o", str(tmp_path / "ds"), "--pad_short_audio")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "ds" / "dataset_report.json").read_text())
    [gap] = report["audio_padding"]
    assert gap["start_s"] == pytest.approx(1.0, abs=0.1) and gap["end_s"] == pytest.approx(4.0, abs=0.1)
    assert report["totals"]["clips"] == 0  # silence (and the missing audio) is never a clip


def test_corrupt_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(os.urandom(50_000))
    proc = make_dataset(str(bad), "-o", str(tmp_path / "ds"))
    assert_one_line_error(proc, "broken.mp4", "not a readable video file")


def test_missing_input(tmp_path):
    proc = make_dataset(str(tmp_path / "nowhere.mp4"), "-o", str(tmp_path / "ds"))
    assert_one_line_error(proc, "nowhere.mp4", "file not found")


def test_output_under_a_file(media, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    proc = make_dataset(str(media("talk3.mp4")), "-o", str(blocker / "ds"))
    assert_one_line_error(proc, "blocker", "cannot create the dataset folder")


def test_bad_parameters(media, tmp_path):
    proc = make_dataset(str(media("talk3.mp4")), "-o", str(tmp_path / "ds"), "--min_clip", "30", "--max_clip", "10")
    assert_one_line_error(proc, "min_clip < max_clip")


def test_no_speech_gives_an_empty_dataset_and_a_report(tmp_path):
    rng = np.random.default_rng(1)
    hiss = (rng.normal(0, 10 ** (-70 / 20), 16000 * 4)).astype(np.float32)  # -70 dBFS, no voice
    video = write_av(tmp_path / "room_tone.mp4", 4.0, hiss)
    out = tmp_path / "ds"
    proc = make_dataset(str(video), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "0 clips" in proc.stdout
    report = json.loads((out / "dataset_report.json").read_text())
    assert report["totals"]["clips"] == 0
    assert any("No clip was produced" in tip for tip in report["recommendations"])
    assert (out / "manifest.jsonl").read_text() == ""
    assert (out / "dataset_report.html").exists()


def test_killed_run_resumes_without_duplicates(media, tmp_path):
    out = tmp_path / "ds"
    args = [sys.executable, "manage.py", "make_dataset", "--no-progress", str(media("talk3.mp4")), "-o", str(out),
            "--max_gap", "1.5", "--min_clip", "2", "--workers", "1"]
    run = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("data/*_metadata.json")):
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)  # the whole run, workers included, as an OOM killer or power cut would
    run.wait()
    finished_before = {p.name for p in out.glob("data/*_metadata.json")}
    assert 1 <= len(finished_before) < 3, "the kill should land mid-run"
    resumed = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(finished_before)} already complete" in resumed.stdout
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [m["clip"] for m in manifest] == ["clip_0000", "clip_0001", "clip_0002"]
    assert sorted(p.name for p in out.glob("clips/*")) == ["clip_0000.mp4", "clip_0001.mp4", "clip_0002.mp4"]
    leftovers = [p.name for p in out.rglob("*") if "partial" in p.name]
    assert leftovers == []


def test_a_missing_model_is_one_message_before_any_clip(media, tmp_path):
    """FACE_LANDMARKER_MODEL (or the project's copy) missing: one line naming it, not a failed clip per span."""
    out = tmp_path / "out"
    proc = make_dataset(str(media("retalk_face3.mp4")), "-o", str(out), "--no-progress",
                        env={**os.environ, "FACE_LANDMARKER_MODEL": str(tmp_path / "gone.task")})
    assert_one_line_error(proc, "gone.task", "model file not found")
    assert not (out / "manifest.jsonl").exists()
