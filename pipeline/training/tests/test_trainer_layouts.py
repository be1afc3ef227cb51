"""#24: the trainer layouts, read the way each trainer's own loader reads them (written here from the loaders'
public code: UniTalker dataset/data_item.py, FaceFormer data_loader.py, MuseTalk musetalk/data/dataset.py), and
checked frame for frame against the clip files, with a one-frame shift that must fail."""
from __future__ import annotations

import csv
import json
import pickle

import av
import librosa
import numpy as np
import pytest

from pipeline.face.blendshape_names import ARKIT_NAMES
from pipeline.face.face_data import read_face_data
from pipeline.training.trainer_layouts import IBUG68_FROM_MESH, LayoutOptions, layout_entries
from pipeline.training.training_export import assign_splits, clips_from_folder, write_export

JAW = ARKIT_NAMES.index("JawOpen")


def export(folder, tmp_path, layout: str, **options):
    clips = clips_from_folder(folder)
    splits = assign_splits({c.video for c in clips})
    return write_export(layout_entries(layout, clips, splits, LayoutOptions(**options)), tmp_path / layout)


def csv_jaw_at(folder, clip: str, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """jawOpen of the clip's QC table at ``times`` from its PTS (csv module, np.interp), and where both
    neighbouring frames are usable."""
    with open(folder / "data" / f"{clip}_blendshapes_qc.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["time_s"]) for r in rows])
    jaw = np.array([float(r["jawOpen"]) if r["jawOpen"] else np.nan for r in rows])
    usable = np.load(folder / "data" / f"{clip}_quality_mask.npy")
    right = np.clip(np.searchsorted(t, times - 1e-6), 0, t.size - 1)
    left = np.where(np.abs(t[right] - times) <= 1e-6, right, np.clip(right - 1, 0, t.size - 1))
    return np.interp(times, t, jaw), usable[left] & usable[right]


def unitalker_items(root, split_file: str) -> list[dict]:
    """UniTalker's AudioFaceDataset + DataItem, without torch: labels json, id_template.npy[id], np.load of
    annot_path, fps 25/30, librosa.load at 16 kHz, truncation to the shorter of audio and annotation (max 20 s)."""
    labels = json.loads((root / split_file).read_text())
    templates = np.load(root / "id_template.npy")
    items = []
    for info in labels["data"]:
        annot = np.load(root / info["annot_path"])
        assert info["fps"] in (25, 30)
        audio, sr = librosa.load(root / info["audio_path"], sr=16000)
        duration = min(len(audio) / sr, len(annot) / info["fps"], 20)
        items.append({"annot": annot[: round(duration * info["fps"])], "audio": audio[: round(duration * sr)],
                      "template": templates[info["id"]], "fps": info["fps"], "id": labels["info"]["id_list"][info["id"]],
                      "path": info["annot_path"], "annot_type": info["annot_type"], "dataset": info["dataset"]})
    return items


@pytest.mark.parametrize("fps", [25, 30])
def test_unitalker_reads_frames_at_k_over_fps_from_the_pts(talk3_dataset, tmp_path, fps):
    root = export(talk3_dataset.root, tmp_path, "unitalker", fps=fps)
    items = unitalker_items(root, "train.json")
    assert len(items) == 3 and json.loads((root / "val.json").read_text())["data"] == []
    assert (root / "blendshape_names.txt").read_text().split() == list(ARKIT_NAMES)
    info = json.loads((root / "export.json").read_text())
    assert len(info["empty_splits"]) == 2 and info["left_out"] == []
    for item, clip in zip(items, ("clip_0000", "clip_0001", "clip_0002")):
        annot = item["annot"]
        assert annot.dtype == np.float32 and annot.shape[1] == 52 and item["template"].shape == (52,)
        assert 0 <= annot.min() and annot.max() <= 1 and item["fps"] == fps
        # annotation and audio cover the same time (within a frame)
        full = np.load(root / item["path"])
        audio_s = librosa.get_duration(path=root / item["path"].replace("annot/", "audio/").replace(".npy", ".wav"))
        assert abs(len(full) / fps - audio_s) <= 1.5 / fps
        times = np.arange(len(full)) / fps
        expected, usable = csv_jaw_at(talk3_dataset.root, clip, times)
        assert usable.mean() > 0.9
        assert np.abs(full[usable, JAW] - expected[usable]).max() < 1e-5
        shifted = np.abs(full[1:][usable[1:], JAW] - expected[:-1][usable[1:]]).max()
        assert shifted > 0.02, "a one-frame shift must show"


def test_npy_layout_has_per_clip_arrays_an_index_and_faceformer_templates(talk3_dataset, tmp_path):
    root = export(talk3_dataset.root, tmp_path, "npy", fps=30)
    index = json.loads((root / "index.json").read_text())
    assert index["names"] == list(ARKIT_NAMES) and len(index["clips"]) == 3
    templates = pickle.loads((root / "templates.pkl").read_bytes())
    for entry in index["clips"]:
        blend, usable = np.load(root / entry["blendshapes"]), np.load(root / entry["usable"])
        speech, sr = librosa.load(root / entry["audio"], sr=16000)
        assert blend.shape == (entry["frames"], 52) and usable.shape == (entry["frames"],) and sr == 16000
        assert templates[entry["subject"]].shape == (52,)
        expected, ok = csv_jaw_at(talk3_dataset.root, entry["clip"], np.arange(entry["frames"]) / 30)
        assert np.array_equal(ok, usable)
        assert np.abs(blend[usable, JAW] - expected[usable]).max() < 1e-5
        assert abs(len(speech) / sr - entry["frames"] / 30) <= 1.5 / 30
    assert index["faceformer_args"]["train_subjects"] == "talk3.mp4"


def test_musetalk_meta_matches_the_clip_video_frame_for_frame(talk3_dataset, tmp_path):
    root = export(talk3_dataset.root, tmp_path, "musetalk")
    lines = (root / "train.txt").read_text().splitlines()
    assert lines[0] == "meta_path" and len(lines) == 4  # MuseTalk skips the header line
    for line, clip in zip(lines[1:], ("clip_0000", "clip_0001", "clip_0002")):
        meta = json.loads((root / line.split()[0]).read_text())
        with av.open(str(root / meta["mp4_path"])) as container:  # what decord's VideoReader counts
            frames = sum(1 for _ in container.decode(video=0))
            width, height = container.streams.video[0].width, container.streams.video[0].height
        marks, boxes = np.array(meta["landmark_list"]), np.array(meta["face_list"])
        assert frames == meta["frames"] == len(marks) == len(boxes) and marks.shape[1:] == (68, 2)
        assert librosa.get_samplerate(root / meta["wav_path"]) == 16000
        face = read_face_data(talk3_dataset.root / "data" / f"{clip}_face.npz")
        lips = face["landmarks"][:, IBUG68_FROM_MESH[48:68], :2].astype(np.float64) * [width, height]
        good = np.array(meta["usable"])
        assert np.abs(marks[good, 48:68] - lips[good]).max() <= 0.6
        assert np.abs(marks[1:][good[1:], 48:68] - lips[:-1][good[1:]]).max() > 1.0, "a one-frame shift must show"
        # the mouth lies inside the face box of its own frame
        inside = (marks[:, 48:68, 0] >= boxes[:, None, 0] - 2) & (marks[:, 48:68, 0] <= boxes[:, None, 2] + 2) \
            & (marks[:, 48:68, 1] >= boxes[:, None, 1] - 2) & (marks[:, 48:68, 1] <= boxes[:, None, 3] + 2)
        assert inside[good].all()
    assert (root / "val.txt").read_text() == "meta_path\n"


def test_musetalk_refuses_resampling_and_a_clip_without_face_data_is_left_out_with_its_reason(talk3_dataset, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(talk3_dataset.root, folder)
    (folder / "data" / "clip_0001_face.npz").unlink()
    with pytest.raises(ValueError, match="musetalk keeps each clip's own video frames"):
        export(folder, tmp_path, "musetalk", fps=30)
    root = export(folder, tmp_path / "ok", "musetalk")
    info = json.loads((root / "export.json").read_text())
    assert [e["clip"] for e in info["left_out"]] == ["clip_0001"] and "no per-frame face data" in info["left_out"][0]["problem"]
    assert len((root / "train.txt").read_text().splitlines()) == 3
