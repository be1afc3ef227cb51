"""#24: muted shots in the catalog: imported as muted, filtered by kind, marked in the training export."""
from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import pyarrow.parquet as pq
from django.urls import reverse

from pipeline.audio.segment import SegmentParams
from pipeline.dataset.build import DatasetParams, build_dataset
from testing.media_factory import with_pause
from testing.support import login


def test_muted_shots_are_filtered_by_kind_and_marked_in_exports(client, upload_lab, media, tmp_path):
    from catalog.importer import import_folder

    source = with_pause(media("hdtf_WDA_KatieHill_000.mp4"), tmp_path / "pause.mp4")
    params = DatasetParams(segment=SegmentParams(min_clip=2.0, max_gap=1.5), muted_shots=0.5)
    import_folder(upload_lab["dataset"], build_dataset(source, tmp_path / "out", params, workers=2).root)
    dataset = upload_lab["dataset"]
    assert list(dataset.clips.filter(muted=True).values_list("name", flat=True)) == ["clip_0002"]
    login(client, "vic")
    page = client.get(reverse("dataset_detail", args=[dataset.pk]), {"kind": "muted"}).content.decode()
    assert "clip_0002" in page and "clip_0000" not in page
    response = client.get(reverse("training_download", args=[dataset.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    name = next(n for n in archive.namelist() if n.endswith("/clips.parquet"))
    table = pq.read_table(io.BytesIO(archive.read(name)))
    assert dict(zip(table["clip"].to_pylist(), table["muted"].to_pylist())) == {
        "clip_0000": False, "clip_0001": False, "clip_0002": True}
