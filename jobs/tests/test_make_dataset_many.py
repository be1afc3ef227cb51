"""#24: make_dataset over several recordings and folders into one dataset folder, resumable; export_training over
it splits by recording; import_dataset brings every recording in; a file that is not a recording is listed."""
from __future__ import annotations

import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ARGS = {"max_gap": 1.5, "min_clip": 2.0, "workers": 2, "no_progress": True}


@pytest.fixture(scope="module")
def many(media, tmp_path_factory):
    work = tmp_path_factory.mktemp("many")
    talks = work / "talks"
    talks.mkdir()
    for name in ("talk3.mp4", "retalk_face1.mp4"):
        shutil.copy(media(name), talks / name)
    (talks / "notes.txt").write_text("who spoke when\n")
    (work / "same_name").mkdir()
    shutil.copy(media("retalk_face2.mp4"), work / "same_name" / "talk3.mp4")  # another recording, same file name
    out = work / "dataset"
    stdout = io.StringIO()
    call_command("make_dataset", str(talks), str(work / "same_name" / "talk3.mp4"), output=str(out), stdout=stdout,
                 **ARGS)
    return out, stdout.getvalue(), work


def test_one_folder_holds_every_recording_with_a_summary_each(many, talk3_dataset):
    out, printed, _ = many
    info = json.loads((out / "recordings.json").read_text())
    names = [r["recording"] for r in info["recordings"]]
    assert sorted(names) == ["retalk_face1.mp4", "talk3.mp4", "talk3.mp4-2"]
    assert [x["path"].rsplit("/", 1)[-1] for x in info["not_recordings"]] == ["notes.txt"]
    assert "skipped" in printed and "notes.txt" in printed
    talk3 = next(r for r in info["recordings"] if r["recording"] == "talk3.mp4")
    # the same clips as a make_dataset of talk3 alone
    alone = [c["clip"] for c in talk3_dataset.clips]
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [x["clip"] for x in lines if x["folder"] == "recordings/talk3.mp4"] == alone and talk3["clips"] == len(alone)
    assert info["totals"]["clips"] == len(lines) == sum(r["clips"] for r in info["recordings"])
    for line in lines:
        assert (out / line["folder"] / "data" / f"{line['clip']}_metadata.json").is_file()
    html = (out / "dataset_report.html").read_text()
    assert 'id="recordings"' in html and "talk3.mp4-2" in html and "notes.txt" in html


def test_a_rerun_cuts_nothing_again(many):
    out, _, work = many
    stdout = io.StringIO()
    call_command("make_dataset", str(work / "talks"), str(work / "same_name" / "talk3.mp4"), output=str(out),
                 stdout=stdout, **ARGS)
    info = json.loads((out / "recordings.json").read_text())
    assert all(r["already_complete"] == r["clips"] for r in info["recordings"])


def test_export_training_over_it_splits_by_recording_and_keeps_shared_footage_together(many, tmp_path):
    out, _, _ = many
    export = tmp_path / "export"
    call_command("export_training", folder=str(out), output=str(export), holdout=["retalk_face1.mp4"],
                 stdout=io.StringIO(), stderr=io.StringIO())
    info = json.loads((export / "export.json").read_text())
    videos = info["split"]["videos"]
    # talk3 was built from retalk_face1-3: all three recordings share footage, so all are held out together
    assert videos["test"] == ["recordings/retalk_face1.mp4", "recordings/talk3.mp4", "recordings/talk3.mp4-2"]
    pairs = {(p["a"], p["b"]): p for p in info["shared_footage"]}
    assert pairs[("recordings/retalk_face1.mp4", "recordings/talk3.mp4")]["duration_s"] > 5.5
    assert pairs[("recordings/talk3.mp4", "recordings/talk3.mp4-2")]["start_a_s"] == pytest.approx(8.1, abs=0.1)


def test_import_dataset_brings_every_recording_in(many, db):
    from accounts.models import Team
    from catalog.models import Dataset

    out, _, _ = many
    Team.objects.create(name="Lab A")
    call_command("import_dataset", str(out), team="Lab A", dataset="talks", stdout=io.StringIO())
    dataset = Dataset.objects.get(name="talks")
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert dataset.videos.count() == 3 and dataset.clips.count() == len(lines)


def test_a_recording_that_cannot_be_read_is_listed_and_the_others_are_done(media, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media("talk3.mp4").read_bytes()[:4000])  # an mp4 header, then nothing
    with pytest.raises(CommandError) as raised:
        call_command("make_dataset", str(media("retalk_face3.mp4")), str(broken), output=str(tmp_path / "out"),
                     stdout=io.StringIO(), **ARGS)
    assert raised.value.returncode == 3 and "1 recording(s) could not be made into clips" in str(raised.value)
    info = json.loads((tmp_path / "out" / "recordings.json").read_text())
    by_name = {r["recording"]: r for r in info["recordings"]}
    assert by_name["retalk_face3.mp4"]["clips"] >= 1 and "broken.mp4" in by_name["broken.mp4"]["error"]
