"""The baseline audio-to-expression model as a dataset metric: curation shows, the loop closes, the job runs."""
from __future__ import annotations

import csv
import io
import shutil

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from pipeline.audio.segment import SegmentParams
from pipeline.dataset.build import DatasetParams, build_dataset
from pipeline.training import baseline
from pipeline.training.training_data import TrainingExport
from pipeline.training.training_export import (
    clips_from_folder,
    export_entries,
    write_export,
)
from testing.media_factory import mux_video_with_audio, still_face_with_speech
from testing.support import login

SHORT = DatasetParams(segment=SegmentParams(min_clip=1.0, max_gap=1.5), pad_short_audio=True)


@pytest.fixture(scope="module")
def speakers(media, tmp_path_factory):
    """Three genuine talking faces, each face with the two other speakers' voices, and each face held still
    over its own speech: one make_dataset folder per recording."""
    work = tmp_path_factory.mktemp("speakers")
    inputs = {f"face{i}": media(f"retalk_face{i}.mp4") for i in (1, 2, 3)}
    for v in (1, 2, 3):
        for a in (1, 2, 3):
            if a != v:
                inputs[f"face{v}_voice{a}"] = mux_video_with_audio(
                    media(f"retalk_face{v}.mp4"), media(f"retalk_face{a}.mp4"), work / f"face{v}_voice{a}.mp4")
        inputs[f"still{v}"] = still_face_with_speech(media(f"retalk_face{v}.mp4"), media(f"retalk_face{v}.mp4"),
                                                     work / f"still{v}.mp4", 5.0)
    clips = []
    for name, source in inputs.items():
        result = build_dataset(source, work / "datasets" / name, SHORT, workers=2)
        for clip in clips_from_folder(result.root):
            clip.video, clip.clip_id = name, len(clips)
            clips.append(clip)
    return clips


def jaw_open_r(clips, held_out: str, keep, tmp_path) -> float:
    out = tmp_path / f"{held_out}-{len(clips)}"
    shutil.rmtree(out, ignore_errors=True)
    chosen = [c for c in clips if c.video == held_out or keep(c.video)]
    splits = {c.video: "test" if c.video == held_out else "train" for c in chosen}
    write_export(export_entries(chosen, splits, seed=0), out)
    _, metrics = baseline.train_on_export(TrainingExport(out))
    return metrics["highlight"]["jawOpen"]["r"]


@pytest.mark.slow
def test_excluding_other_voices_and_still_faces_improves_held_out_jaw_open(speakers, tmp_path):
    """Leave one speaker out; train on the two others' recordings with and without the bad ones."""
    for k in (1, 2, 3):
        others = [str(i) for i in (1, 2, 3) if i != k]

        def not_speaker_k(video: str) -> bool:  # neither the face nor the voice of the held-out speaker
            return str(k) not in video.replace("voice", "")

        def genuine(video: str) -> bool:
            return not_speaker_k(video) and video in {f"face{i}" for i in others}

        everything = jaw_open_r(speakers, f"face{k}", not_speaker_k, tmp_path)
        curated = jaw_open_r(speakers, f"face{k}", genuine, tmp_path)
        assert curated > everything + 0.02, (k, everything, curated)


def test_fit_is_deterministic_and_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 12)).astype(np.float32)
    true = rng.normal(size=(12, 3))
    y = np.clip(0.5 + 0.05 * (x @ true), 0, 1).astype(np.float32)
    config = baseline.BaselineConfig(targets=("a", "b", "c"), alpha=1e-4)
    one, two = baseline.fit(x, y, config), baseline.fit(x, y, config)
    assert np.array_equal(one.weights, two.weights)
    scores = baseline.evaluate(one, x, y)
    assert all(v["r"] > 0.99 for v in scores["per_blendshape"].values())


def test_train_then_drive_a_face_from_an_audio_file(speakers, media, tmp_path):
    """The whole loop from the command line: export, train, apply to new audio; the CSV has the extract layout."""
    out = tmp_path / "export"
    chosen = [c for c in speakers if c.video in ("face1", "face2", "face3")]
    write_export(export_entries(chosen, {"face1": "train", "face2": "train", "face3": "test"}, seed=0), out)
    model_path = tmp_path / "model.npz"
    text = io.StringIO()
    call_command("train_baseline", export=str(out), output=str(model_path), stdout=text)
    assert "held-out" in text.getvalue() and model_path.is_file()
    model = baseline.load(model_path)
    assert model.feature_params["n_mels"] == 80 and model.trained_on["held_out_videos"] == ["face3"]
    csv_path = tmp_path / "face.csv"
    call_command("apply_baseline", model=str(model_path), audio=str(media("retalk_face3.mp4")), output=str(csv_path),
                 fps=30, stdout=io.StringIO())
    with open(csv_path, newline="") as fh:
        rows = list(csv.reader(fh))
    with open(chosen[0].files.blendshapes, newline="") as fh:
        extract_header = next(csv.reader(fh))
    assert rows[0] == extract_header  # the extract layout, so ARKit/Live Link tools that read it read this
    duration = 125 / 25
    assert abs(len(rows) - 1 - duration * 30) <= 2
    jaw = np.array([float(r[rows[0].index("jawOpen")]) for r in rows[1:]])
    assert jaw.std() > 0.005 and 0 <= jaw.min() and jaw.max() <= 1  # it moves with the speech


def test_apply_refuses_what_is_not_a_model(tmp_path, media):
    from django.core.management.base import CommandError

    bogus = tmp_path / "model.npz"
    bogus.write_bytes(b"not a model")
    with pytest.raises(CommandError, match="not a baseline model"):
        call_command("apply_baseline", model=str(bogus), audio=str(media("retalk_face3.mp4")),
                     output=str(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()


# --- the dashboard ------------------------------------------------------------

@pytest.fixture
def three_video_lab(lab, talk3_dataset, tmp_path):
    """The lab's talks dataset with two more copies of talk3 imported as other recordings (three sources).  The
    copies are the same footage, which the shared-footage check would find and group into one split: their
    fingerprints are removed, as in a folder made before fingerprints existed, so they stand for three recordings."""
    import json

    from catalog.importer import import_folder

    for copy in ("talk3_b.mp4", "talk3_c.mp4"):
        folder = tmp_path / copy
        shutil.copytree(talk3_dataset.root, folder)
        manifest = folder / "manifest.jsonl"
        lines = [{**json.loads(line), "source": copy} for line in manifest.read_text().splitlines()]
        manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
        (folder / "fingerprint.npz").unlink()
        import_folder(lab["talks"], folder)
    return lab


def test_report_trains_the_baseline_on_a_selection_and_shows_it_beside_the_others(client, three_video_lab):
    from reports.baseline_job import train_baseline
    from reports.models import BaselineRun

    talks = three_video_lab["talks"]
    assert talks.videos.count() == 3
    login(client, "ana")
    for query in ("", "score_min=0"):
        response = client.post(reverse("baseline_start", args=[talks.pk]), {"query": query, "label": ""})
        assert response.status_code == 302
    runs = list(BaselineRun.objects.order_by("pk"))
    assert [r.label for r in runs] == ["all clips", "score_min=0.0"]
    for run in runs:
        assert train_baseline(run.pk).startswith("jawOpen r")
        run.refresh_from_db()
        assert run.status == "done" and run.model_path.is_file(), run.error
        assert run.metrics["frames"] > 0 and "jawOpen" in run.metrics["highlight"]
    # both runs scored on the same held-out frames
    assert runs[0].metrics["frames"] == runs[1].metrics["frames"]
    page = client.get(reverse("dataset_report", args=[talks.pk])).content.decode()
    assert 'id="baseline-runs"' in page and "all clips" in page and "score_min=0.0" in page
    model = client.get(reverse("baseline_model", args=[runs[0].pk]))
    assert model.status_code == 200 and b"".join(model.streaming_content)[:2] == b"PK"  # an .npz (zip)
    # viewers see it but cannot start one; other teams see nothing
    login(client, "vic")
    assert client.post(reverse("baseline_start", args=[talks.pk]), {"query": ""}).status_code == 403
    login(client, "bob")
    assert client.get(reverse("baseline_model", args=[runs[0].pk])).status_code == 404


def test_a_dataset_without_held_out_videos_says_so(client, lab):
    from reports.baseline_job import train_baseline
    from reports.models import BaselineRun

    run = BaselineRun.objects.create(dataset=lab["talks"], label="all clips")
    assert train_baseline(run.pk).startswith("failed")
    run.refresh_from_db()
    assert run.status == "failed" and "at least 3" in run.error


def test_train_refuses_what_is_not_an_export(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a training export"):
        call_command("train_baseline", export=str(tmp_path), output=str(tmp_path / "m.npz"))
    assert not (tmp_path / "m.npz").exists()


def test_a_baseline_run_whose_worker_died_is_queued_again_then_failed_saying_why(lab):
    """Issue #23: a run that crashed, was killed or timed out no longer stays "training" for good."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import OrmQ

    from reports.baseline_job import claim, requeue_stalled_baselines
    from reports.models import BaselineRun

    run = BaselineRun.objects.create(dataset=lab["talks"], label="all clips")
    first = claim(run.pk)
    assert first and claim(run.pk) is None, "a second delivery of the same task must not run it twice"
    assert requeue_stalled_baselines() == 0, "a live heartbeat is left alone"
    BaselineRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    assert requeue_stalled_baselines() == 1
    run.refresh_from_db()
    assert run.status == BaselineRun.Status.QUEUED and OrmQ.objects.count() == 1
    second = claim(run.pk)
    assert second and second != first
    BaselineRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    assert requeue_stalled_baselines() == 0
    run.refresh_from_db()
    assert run.status == BaselineRun.Status.FAILED and "stopped 2 times" in run.error


def test_a_baseline_run_that_raises_anything_is_failed_not_left_running(lab, monkeypatch):
    from reports import baseline_job
    from reports.models import BaselineRun

    def broken(run, export_dir):
        raise KeyError("jawOpen")

    monkeypatch.setattr(baseline_job, "train", broken)
    run = BaselineRun.objects.create(dataset=lab["talks"], label="all clips")
    with pytest.raises(KeyError):
        baseline_job.train_baseline(run.pk)
    run.refresh_from_db()
    assert run.status == BaselineRun.Status.FAILED and "internal error (KeyError" in run.error


def test_the_baseline_button_says_why_before_it_fails_and_a_run_names_its_videos(client, three_video_lab):
    from catalog.models import Dataset
    from reports.baseline_job import train_baseline
    from reports.models import BaselineRun

    login(client, "ana")
    lonely = Dataset.objects.create(team=three_video_lab["talks"].team, name="lonely")  # no video yet
    page = client.get(reverse("dataset_report", args=[lonely.pk])).content.decode()
    assert 'id="train-baseline" disabled' in page and "needs at least 3" in page
    response = client.post(reverse("baseline_start", args=[lonely.pk]), {"query": ""})
    assert response.status_code == 400 and not BaselineRun.objects.filter(dataset=lonely).exists()
    talks = three_video_lab["talks"]
    client.post(reverse("baseline_start", args=[talks.pk]), {"query": "", "label": "paper v1"})
    run = BaselineRun.objects.get(dataset=talks)
    assert train_baseline(run.pk).startswith("jawOpen r"), run.error
    run.refresh_from_db()
    # train and validation videos train (two of three), the test video is held out; names and counts shown
    assert len(run.metrics["train_video_names"]) == 2 and len(run.metrics["test_videos"]) == 1
    page = client.get(reverse("dataset_report", args=[talks.pk])).content.decode()
    row = page[page.index(">paper v1</a>"):]
    row = row[: row.index("</tr>")]
    assert f"{run.metrics['train_clips']} clip" in row and run.metrics["test_videos"][0] in row
    assert all(name in row for name in run.metrics["train_video_names"])
    assert f">baseline-{run.pk}.npz</a>" in row and 'id="train-baseline" disabled' not in page
