"""Issue #23: one clip record (pipeline.dataset.clip_record) is what metadata.json holds and the manifest repeats."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from catalog.importer import import_folder
from catalog.models import Dataset
from exports.downloads import clip_row
from exports.selections import freeze
from exports.training import export_clip
from pipeline.dataset.clip_record import (
    SUMMARY_FIELDS,
    ClipRecord,
    summary,
    upgrade_line,
)
from pipeline.quality.scoring import reasons
from pipeline.training.training_export import clips_from_folder


def test_metadata_reads_back_as_the_same_record_and_the_manifest_line_agrees(talk3_dataset):
    root = talk3_dataset.root
    lines = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    assert len(lines) == 3
    for line in lines:
        meta = json.loads((root / line["metadata"]).read_text())
        record = ClipRecord.from_dict(meta)
        assert record.to_dict() == meta, "the record round-trips the metadata file exactly"
        assert list(record.to_dict()) == list(meta), "in the file's key order"
        assert record.manifest_line() == line


def test_an_older_metadata_file_without_newer_keys_still_reads():
    old = {"clip": "clip_0000", "index": 0, "source": "talk.mp4", "source_start_s": 0.0, "source_end_s": 2.0,
           "duration_s": 2.0, "fps": 25.0, "frames": 50, "face_frames": 50, "quality": {"valid_rate": 1.0},
           "unknown_key_of_the_future": 1}
    record = ClipRecord.from_dict(old)
    assert record.clip == "clip_0000" and record.speech_span_s is None and record.face_speaking is None


PREVIOUS = Path(__file__).parent / "fixtures" / "previous_version" / "retalk_face3"


def test_a_folder_the_previous_version_wrote_imports_unchanged(lab, tmp_path):
    """catalog/tests/fixtures/previous_version: make_dataset of the version before the restructure (886d975), on
    retalk_face3 (its HTML report left out).  It imports as it is, and every reader of the catalog clip (zip
    manifest, frozen selection, training export) says what its manifest line says."""
    folder = tmp_path / "old"
    shutil.copytree(PREVIOUS, folder)
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    [line] = [json.loads(text) for text in (folder / "manifest.jsonl").read_text().splitlines()]
    dataset = Dataset.objects.create(team=lab["team_a"], name="previous")
    result = import_folder(dataset, folder)
    assert (result.videos, result.created) == (1, 1)
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    clip = dataset.clips.get()
    sync = line["lip_sync"]
    assert clip.video.source_name == clip.source_name == line["source"] == "retalk_face3.mp4"
    assert (clip.lip_sync_offset_ms, clip.lip_sync_confidence, clip.lip_sync_verdict) == (
        sync["offset_ms"], sync["confidence"], sync["verdict"])
    assert clip.quality == line["quality"] and clip.quality_score == line["quality_score"]
    assert clip.face_rate == line["face_frames"] / line["frames"]
    row = clip_row(clip, "x")
    assert (row["lip_sync_offset_ms"], row["lip_sync_confidence"]) == (sync["offset_ms"], sync["confidence"])
    assert row["quality.jitter"] == line["quality"]["jitter"]
    [frozen] = json.loads(freeze([clip])[0])["clips"]
    assert frozen["source_start_s"] == line["source_start_s"] and frozen["lip_sync_verdict"] == sync["verdict"]
    from_catalog, [from_folder] = export_clip(clip), clips_from_folder(folder)
    assert from_catalog.info["lip_sync_offset_ms"] == from_folder.info["lip_sync_offset_ms"] == sync["offset_ms"]
    assert {k: from_catalog.info[k] for k in SUMMARY_FIELDS} == {k: from_folder.info[k] for k in SUMMARY_FIELDS}


def test_the_one_translation_reads_a_line_from_before_the_lip_sync_check():
    line = json.loads((PREVIOUS / "manifest.jsonl").read_text().splitlines()[0])
    assert upgrade_line(line) == line, "a line of this version is left as it is"
    old = {k: v for k, v in line.items() if k not in ("lip_sync", "quality", "quality_reasons", "face_speaking")}
    old.update(av_lag_ms=-80.0, av_correlation=0.4, av_sync_weak=True)
    new = summary(old)
    assert (new["lip_sync_offset_ms"], new["lip_sync_offset_abs_ms"], new["lip_sync_confidence"]) == (-80.0, 80.0, 0.4)
    assert new["lip_sync_verdict"] == "" and new["face_speaking"] is None
    assert new["quality"] == {k: line[k] for k in ("valid_rate", "smoothness", "range_validity")}
    assert new["quality_reasons"] == reasons(new["quality"])
