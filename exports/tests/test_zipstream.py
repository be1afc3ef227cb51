"""The streamed zip writer on its own: readable by zipfile and by the CRC check, ZIP64 fields where needed."""
from __future__ import annotations

import io
import os
import zipfile

import pytest

from exports import zipstream


def build(entries) -> zipfile.ZipFile:
    data = b"".join(zipstream.stream_zip(entries))
    return zipfile.ZipFile(io.BytesIO(data))


def test_files_and_bytes_round_trip(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * zipstream.BLOCK + 123))  # several read-ahead blocks
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    archive = build([("a/big.bin", big), ("a/empty.bin", empty), ("manifest.csv", "clip,é\n".encode()),
                     ("ünïcode name.txt", b"x")])
    assert archive.testzip() is None  # every CRC matches
    assert archive.namelist() == ["a/big.bin", "a/empty.bin", "manifest.csv", "ünïcode name.txt"]
    assert archive.read("a/big.bin") == big.read_bytes()
    assert archive.read("a/empty.bin") == b""
    assert archive.read("manifest.csv").decode() == "clip,é\n"


def test_zip64_fields_are_written_when_needed(tmp_path, monkeypatch):
    """With the ZIP64 limit lowered to 1 kB, sizes and offsets past it go into ZIP64 records, as they would
    past 4 GiB; zipfile must still read everything back."""
    monkeypatch.setattr(zipstream, "ZIP64_LIMIT", 1000)
    files = []
    for i in range(3):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(os.urandom(1500 + i))
        files.append((f"f{i}.bin", path))
    data = b"".join(zipstream.stream_zip([*files, ("small.txt", b"hello")]))
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data  # ZIP64 end records
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    for name, path in files:
        assert archive.read(name) == path.read_bytes()
    assert archive.read("small.txt") == b"hello"


def test_a_missing_file_stops_the_stream(tmp_path):
    with pytest.raises(OSError):
        b"".join(zipstream.stream_zip([("gone.bin", tmp_path / "gone.bin")]))
