"""#24: face-aligned crops: 25 fps videos of the crop size with the clip's 16 kHz audio, the landmarks in the
crop's pixels; MediaPipe run on the crop frames finds the mouth where the exported landmarks say, and the
landmarks of the next source frame are farther off (the picture, the landmarks and the audio line up)."""
from __future__ import annotations

import json

import av
import numpy as np
import pytest

from pipeline.face.landmarks import FaceLandmarkTracker
from pipeline.training.trainer_layouts import LayoutOptions, layout_entries
from pipeline.training.training_export import assign_splits, clips_from_folder, write_export

LIPS = [61, 291, 0, 17, 13, 14, 78, 308]


@pytest.fixture(scope="module")
def crops(talk3_dataset, tmp_path_factory):
    clips = clips_from_folder(talk3_dataset.root)
    return write_export(layout_entries("facecrops", clips, assign_splits({c.video for c in clips}),
                                       LayoutOptions(crop_size=256)), tmp_path_factory.mktemp("crops") / "fc")


def decoded(path):
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        return frames, float(video.average_rate), audio.rate, (video.width, video.height)


def test_crop_videos_are_25_fps_at_the_size_with_the_clip_audio(crops):
    info = json.loads((crops / "export.json").read_text())
    assert info["left_out"] == [] and info["fps"] == 25 and info["speed"]["frames_per_s"] > 0
    index = json.loads((crops / "index.json").read_text())
    assert (crops / "train.txt").read_text().splitlines() == [e["folder"] for e in index["clips"]]
    for entry in index["clips"]:
        frames, fps, rate, size = decoded(crops / entry["folder"] / "video.mp4")
        assert len(frames) == entry["frames"] and fps == 25 and rate == 16000 and size == (256, 256)
        marks = np.load(crops / entry["folder"] / "landmarks.npy")
        assert marks.shape == (entry["frames"], 478, 2)
        import wave

        with wave.open(str(crops / entry["folder"] / "audio.wav")) as w:
            assert w.getframerate() == 16000 and abs(w.getnframes() / 16000 - entry["frames"] / 25) < 2 / 25


@pytest.mark.slow
def test_mediapipe_on_the_crops_finds_the_mouth_where_the_landmarks_say(crops):
    index = json.loads((crops / "index.json").read_text())
    entry = index["clips"][1]
    frames, _, _, _ = decoded(crops / entry["folder"] / "video.mp4")
    marks = np.load(crops / entry["folder"] / "landmarks.npy")
    found = []
    with FaceLandmarkTracker() as tracker:
        for k, rgb in enumerate(frames):
            result = tracker.detect(np.ascontiguousarray(rgb), int(k * 40))
            found.append(result.landmarks[LIPS, :2] * 256 if result.face else None)
    ok = [k for k, f in enumerate(found) if f is not None and k + 1 < len(frames)]
    assert len(ok) > 0.9 * len(frames)
    same = np.mean([np.abs(found[k] - marks[k][LIPS]).mean() for k in ok])
    shifted = np.mean([np.abs(found[k] - marks[k + 1][LIPS]).mean() for k in ok])
    assert same < 2.0 and shifted > same, (same, shifted)
