"""Issue #23: one clip record (pipeline.clip_record) is what metadata.json holds and the manifest repeats."""
from __future__ import annotations

import json

from pipeline.clip_record import ClipRecord


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
