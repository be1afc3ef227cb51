"""Holes an attack on a local copy found (issue #12), closed: files outside a dataset folder, a filter that
was not understood, database overflows from huge ids, spreadsheet formulas in the manifest."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from django.urls import reverse

from catalog.importer import import_folder
from catalog.models import Clip, Dataset, Tag
from pipeline.errors import InputError
from tests.test_catalog import login
from tests.test_downloads import fetch_zip


def crafted_copy(talk3_dataset, tmp_path, change) -> object:
    folder = tmp_path / "crafted"
    shutil.copytree(talk3_dataset.root, folder)
    lines = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    change(lines[0])
    (folder / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "data/../../outside.txt"])
def test_a_manifest_cannot_point_outside_its_folder(lab, talk3_dataset, tmp_path, path):
    (tmp_path / "outside.txt").write_text("secret")
    folder = crafted_copy(talk3_dataset, tmp_path, lambda line: line["files"]["audio"].update(path=path))
    dataset = Dataset.objects.create(team=lab["team_a"], name="crafted")
    with pytest.raises(InputError, match="line 1: a file path leads outside the dataset folder"):
        import_folder(dataset, folder)
    assert dataset.clips.count() == 0


def test_a_clip_name_cannot_climb_out(lab, talk3_dataset, tmp_path):
    folder = crafted_copy(talk3_dataset, tmp_path, lambda line: line.update(clip="../../db"))
    dataset = Dataset.objects.create(team=lab["team_a"], name="crafted")
    with pytest.raises(InputError, match="is not a clip name"):
        import_folder(dataset, folder)


def test_a_row_pointing_outside_is_never_served(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    files = dict(clip.files)
    files["audio"] = {**files["audio"], "path": "../../../../etc/passwd"}
    Clip.objects.filter(pk=clip.pk).update(files=files)
    login(client, "vic")
    assert client.get(reverse("clip_file", args=[clip.pk, "audio"])).status_code == 404
    archive = fetch_zip(client.get(reverse("dataset_download", args=[lab["talks"].pk]), {"files": "audio"}))
    assert not any(name.endswith("passwd") for name in archive.namelist())
    selection = json.loads(archive.read("talks/selection.json"))
    assert any(missing.endswith("/audio") for missing in selection["missing_files"])


def test_a_filter_that_is_not_understood_downloads_nothing(client, lab):
    login(client, "vic")
    url = reverse("dataset_download", args=[lab["talks"].pk])
    response = client.get(url, {"score_min": "95", "tag": "x" * 61})
    assert response.status_code == 400 and "not understood" in response.content.decode()
    assert client.get(url, {"video": "9" * 30}).status_code == 400
    table = client.get(reverse("dataset_detail", args=[lab["talks"].pk]), {"video": "9" * 30})
    assert table.status_code == 200  # shown with the form's error, not a 500


def test_tags_cannot_become_spreadsheet_formulas(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    clip.tags.add(Tag.objects.create(dataset=lab["talks"], name='=HYPERLINK("http://evil")'))
    login(client, "vic")
    archive = fetch_zip(client.get(reverse("dataset_download", args=[lab["talks"].pk]), {"files": "metadata"}))
    rows = list(csv.DictReader(io.StringIO(archive.read("talks/manifest.csv").decode())))
    tagged = next(r for r in rows if r["clip"] == clip.name)
    assert tagged["tags"].startswith("'=")


@pytest.mark.parametrize("values", [{"min_clip": "nan"}, {"max_gap": "inf"}, {"min_clip": "0"}, {"min_clip": "0.2"}])
def test_upload_settings_that_would_fail_later_are_refused_now(values):
    from catalog.uploads import parse_params

    with pytest.raises(ValueError):
        parse_params(values)


def test_an_absurd_range_header_is_ignored_not_a_500(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    login(client, "vic")
    url = reverse("clip_file", args=[clip.pk, "video"])
    response = client.get(url, HTTP_RANGE="bytes=" + "9" * 5000 + "-")
    assert response.status_code == 200
    assert client.get(url, HTTP_RANGE="bytes=0-9").status_code == 206
