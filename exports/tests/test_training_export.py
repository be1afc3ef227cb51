"""The training export: frame rows equal the clip files exactly, splits by video, the loader, the baseline."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from pipeline.face.blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES
from pipeline.training.training_data import FrameWindows, TrainingExport
from pipeline.training.training_export import assign_splits
from testing.support import login

CURVES = MEDIAPIPE_NAMES + HEAD_POSE_NAMES


@pytest.fixture(scope="module")
def talk3_copy(talk3_dataset, tmp_path_factory):
    """talk3's dataset with a few frames of its first clip marked unusable (every real frame of talk3 is usable)."""
    import shutil

    root = tmp_path_factory.mktemp("masked") / "talk3"
    shutil.copytree(talk3_dataset.root, root)
    mask_path = root / "data" / "clip_0000_quality_mask.npy"
    mask = np.load(mask_path)
    mask[40:45] = False
    np.save(mask_path, mask)
    return root


@pytest.fixture(scope="module")
def talk3_export(talk3_copy, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports") / "talk3"
    call_command("export_training", folder=str(talk3_copy), output=str(out), stdout=io.StringIO())
    return out


def file_values(root, clip: str) -> dict[str, np.ndarray]:
    """What the clip's own files say, read independently of the exporter (csv module, numpy)."""
    def curves(path):
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        values = {name: np.array([np.float32(float(r[name])) if r[name] != "" else np.nan for r in rows], np.float32)
                  for name in CURVES}
        values["time_s"] = np.array([float(r["time_s"]) for r in rows])
        values["face"] = np.array([r["face"] == "1" for r in rows])
        return values

    clean = curves(root / "data" / f"{clip}_blendshapes_qc.csv")
    raw = curves(root / "data" / f"{clip}_blendshapes.csv")
    out = {**clean, **{f"raw_{n}": raw[n] for n in CURVES}}
    out["usable"] = np.load(root / "data" / f"{clip}_quality_mask.npy")
    with np.load(root / "data" / f"{clip}_audio_features.npz") as npz:
        for name in ("mel", "mfcc", "f0", "voicing", "rms", "zcr", "spectral_centroid"):
            out[name] = np.asarray(npz[name], np.float32)
    return out


def exported_values(table) -> dict[str, np.ndarray]:
    out = {}
    for name in table.column_names:
        column = table[name].combine_chunks()
        if name in ("mel", "mfcc"):
            out[name] = column.flatten().to_numpy().reshape(table.num_rows, -1)
        elif name in ("f0", "voicing", "rms", "zcr", "spectral_centroid"):
            out[name] = column.to_numpy().reshape(-1, 1)
        elif name in CURVES or name.startswith("raw_"):
            out[name] = np.asarray(column.to_numpy(zero_copy_only=False), np.float32)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def test_frame_rows_equal_the_clip_files_exactly(talk3_copy, talk3_export):
    export = TrainingExport(talk3_export)
    table = export.frames()
    manifest = [json.loads(line) for line in (talk3_copy / "manifest.jsonl").read_text().splitlines()]
    assert table.num_rows == sum(m["frames"] for m in manifest)
    clips = np.array(table["clip"].to_pylist())
    checked = 0
    for entry in manifest:
        rows = exported_values(table.filter(np.asarray(clips == entry["clip"])))
        files = file_values(talk3_copy, entry["clip"])
        for name, expected in files.items():
            assert same(rows[name], expected), (entry["clip"], name)
            checked += 1
        assert same(rows["frame"], np.arange(entry["frames"], dtype=np.int32))
        assert np.allclose(rows["source_time_s"], entry["source_start_s"] + files["time_s"], atol=1e-6)
        # the comparison sees a one-frame misalignment
        for name in ("jawOpen", "raw_jawOpen", "mel", "rms") + (("usable",) if entry["clip"] == "clip_0000" else ()):
            assert not same(rows[name][1:], files[name][:-1]), name
    assert checked == len(manifest) * (2 * len(CURVES) + 3 + 7)
    # issue #21: each frame's landmarks and face box from the clip's face file, NaN without a face
    from pipeline.face.face_data import read_face_data

    for entry in manifest:
        part = table.filter(np.asarray(clips == entry["clip"]))
        face = read_face_data(talk3_copy / "data" / f"{entry['clip']}_face.npz")
        landmarks = np.array(part["landmarks"].to_pylist(), np.float32)
        expected = face["landmarks"].astype(np.float32).reshape(len(landmarks), -1)
        assert np.array_equal(landmarks, expected, equal_nan=True)
        assert not np.array_equal(landmarks[1:], expected[:-1], equal_nan=True)
        assert np.array_equal(np.array(part["face_box_px"].to_pylist(), np.float32), face["box_px"], equal_nan=True)
    info = export.info
    assert info["clips_without_face_data"] == []
    assert info["counts"]["clips"] == len(manifest) and not info["missing_clips"]
    assert info["feature_params"]["n_mels"] == 80 and info["split"]["seed"] == 0


def test_clips_table_has_qc_verdict_and_split(talk3_dataset, talk3_export):
    clips = TrainingExport(talk3_export).clips().to_pylist()
    manifest = [json.loads(line) for line in (talk3_dataset.root / "manifest.jsonl").read_text().splitlines()]
    assert [c["clip"] for c in clips] == [m["clip"] for m in manifest]
    for row, entry in zip(clips, manifest):
        assert row["quality_score"] == entry["quality_score"]
        assert row["lip_sync_verdict"] == entry["lip_sync"]["verdict"]
        assert row["quality_jitter"] == entry["quality"]["jitter"]
        assert row["split"] == "train" and row["video"] == "talk3.mp4"  # one video: all of it in one split


def test_splits_are_by_video_seeded_and_recorded():
    videos = [f"talk_{i:02d}.mp4" for i in range(20)]
    first = assign_splits(videos, seed=7)
    assert first == assign_splits(list(reversed(videos)), seed=7)  # same seed, same split, whatever the order
    assert set(first) == set(videos)
    counts = {s: sum(v == s for v in first.values()) for s in ("train", "validation", "test")}
    assert counts == {"train": 16, "validation": 2, "test": 2}
    assert assign_splits(videos, seed=8) != first
    held = assign_splits(videos, seed=7, holdout=["talk_03.mp4"])
    assert held["talk_03.mp4"] == "test" and sum(v == "test" for v in held.values()) == 2
    assert set(assign_splits(videos[:3], seed=0).values()) == {"train", "validation", "test"}


def test_windows_stay_inside_a_clip_and_honour_the_mask(talk3_export):
    export = TrainingExport(talk3_export)
    loose = FrameWindows(export, split="train", window=10, context=3, usable_only=False)
    strict = FrameWindows(export, split="train", window=10, context=3)
    assert len(strict) <= len(loose) and len(strict) > 0
    assert (~strict.usable).sum() == 5
    assert len(loose) - len(strict) == 14  # the windows that contain one of the 5 unusable frames
    for i in range(len(loose)):
        a = int(loose.starts[i])
        assert len(set(loose.clip_ids[a: a + 10])) == 1  # never across a clip boundary
    for i in range(len(strict)):
        audio, target, mask = strict[i]
        assert audio.shape == (16, 80) and target.shape == (10, len(MEDIAPIPE_NAMES)) and mask.all()
    x, y = strict.stacked()
    assert x.shape[1] == 7 * 80 and x.shape[0] == y.shape[0] == int(strict.usable.sum() -
                                                                    np.isnan(strict.target).any(axis=1)[strict.usable].sum())
    # the stacked context is the frame's neighbours: centre block = the frame's own features
    assert np.array_equal(x[:, 3 * 80: 4 * 80], strict.audio[strict.usable & ~np.isnan(strict.target).any(axis=1)])


def test_the_export_reads_from_its_zip_too(talk3_export, tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in talk3_export.rglob("*"):
            if path.is_file():
                zf.write(path, f"talks-training/{path.relative_to(talk3_export).as_posix()}")
    from_zip, from_folder = TrainingExport(archive), TrainingExport(talk3_export)
    assert from_zip.frames().equals(from_folder.frames())


def test_export_command_refuses_bad_input(tmp_path, talk3_dataset):
    with pytest.raises(CommandError, match="no manifest.jsonl"):
        call_command("export_training", folder=str(tmp_path), output=str(tmp_path / "out"))
    (tmp_path / "taken").mkdir()
    with pytest.raises(CommandError, match="already exists"):
        call_command("export_training", folder=str(talk3_dataset.root), output=str(tmp_path / "taken"))
    with pytest.raises(CommandError, match="no clip comes from"):
        call_command("export_training", folder=str(talk3_dataset.root), output=str(tmp_path / "x"),
                     holdout=["nobody.mp4"])
    assert not (tmp_path / "x").exists()


# --- the web download ---------------------------------------------------------

def test_download_for_training_follows_the_filter(client, lab):
    talks = lab["talks"]
    keep = talks.clips.order_by("name")[0]
    login(client, "vic")
    response = client.get(reverse("training_download", args=[talks.pk]), {"score_min": keep.quality_score})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    export = TrainingExport_from(archive)
    expected = sorted(c.pk for c in talks.clips.all() if c.quality_score >= keep.quality_score)
    assert sorted(set(export.frames(["clip_id"])["clip_id"].to_pylist())) == expected
    assert export.info["filter"]["score_min"] == keep.quality_score and export.info["dataset"] == "talks"
    assert client.get(reverse("training_download", args=[talks.pk]), {"score_min": "x"}).status_code == 400
    assert client.get(reverse("training_download", args=[talks.pk]), {"seed": "-1"}).status_code == 400
    assert client.get(reverse("training_download", args=[lab["other"].pk])).status_code == 404
    page = client.get(reverse("dataset_detail", args=[talks.pk]), {"score_min": 10}).content.decode()
    form = page[page.index('id="training-download"'):]
    form = form[: form.index("</form>")]
    assert 'name="score_min" value="10"' in form and 'value="unitalker"' in form and 'value="30"' in form
    # one video: the form says before the download that validation and test will be empty
    assert "the validation and test splits will be empty" in form and "1 independent recording" in form


def test_the_download_form_gives_each_trainer_layout_and_refuses_what_it_does_not_know(client, lab):
    talks = lab["talks"]
    login(client, "vic")
    url = reverse("training_download", args=[talks.pk])
    response = client.get(url, {"format": "unitalker", "fps": "30"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    top = names[0].split("/")[0]
    assert top == "talks-training-unitalker" and f"{top}/train.json" in names and f"{top}/id_template.npy" in names
    train = json.loads(archive.read(f"{top}/train.json"))
    assert len(train["data"]) == talks.clips.count() and {d["fps"] for d in train["data"]} == {30}
    info = json.loads(archive.read(f"{top}/export.json"))
    assert len(info["empty_splits"]) == 2 and info["dataset"] == "talks"
    for bad in ({"format": "hdf5"}, {"fps": "24"}, {"format": "musetalk", "fps": "25"}):
        response = client.get(url, bad)
        assert response.status_code == 400, bad


def TrainingExport_from(archive: zipfile.ZipFile) -> TrainingExport:  # noqa: N802 - reads like the class
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    archive.extractall(folder)
    return TrainingExport(next(folder.iterdir()))
