"""Managing from the dashboard: why a job kept few clips, reprocess with carried-over curation, deletions on disk."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Membership, Role, Team
from catalog.models import Clip, Dataset, Video
from jobs.fanout import cut_clip
from jobs.tasks import process_video
from jobs.why import shortfall
from testing.support import sign_in

PASSWORD = "a-long-test-password"


@pytest.fixture
def lab(transactional_db):
    users = {n: get_user_model().objects.create_user(n, password=PASSWORD) for n in ("boss", "ana", "vic", "out")}
    team = Team.objects.create(name="Lab A")
    for name, role in (("boss", Role.ADMIN), ("ana", Role.MEMBER), ("vic", Role.VIEWER)):
        Membership.objects.create(team=team, user=users[name], role=role)
    Membership.objects.create(team=Team.objects.create(name="Lab B"), user=users["out"], role=Role.ADMIN)
    return {"team": team, "dataset": Dataset.objects.create(team=team, name="talks"), **users}


def client_for(client, name: str):
    sign_in(client, name, PASSWORD)
    return client


def uploaded(dataset: Dataset, source: Path, **params) -> Video:
    """A video as an upload leaves it: the recording in DATA_DIR/videos/<id>/, queued."""
    video = Video.objects.create(dataset=dataset, source_name=source.name, params=params, source_path="",
                                 output_dir="")
    folder = Path(settings.DATA_DIR) / "videos" / str(video.pk)
    shutil.rmtree(folder, ignore_errors=True)  # ids come back after a rolled-back test
    folder.mkdir(parents=True)
    shutil.copy(source, folder / source.name)
    Video.objects.filter(pk=video.pk).update(source_path=str(folder / source.name), output_dir=str(folder / "dataset"))
    video.refresh_from_db()
    return video


def process_here(video_id: int) -> None:
    """The whole job in this process: plan and fan out, then run the clip messages a worker would run."""
    process_video(video_id)
    while (video := Video.objects.get(pk=video_id)).status == Video.Status.RUNNING:
        assert cut_clip(video_id, video.run_token) != "no clip left to cut", "running with no clip left"


def test_the_reason_for_few_clips_is_one_sentence_with_a_fix(lab):
    video = Video.objects.create(dataset=lab["dataset"], source_name="short.mp4", status=Video.Status.DONE,
                                 output_dir="/x", report={"totals": {"clips": 0}, "dropped_segments": [
                                     {"start_s": 0.2, "end_s": 6.8, "duration_s": 6.6,
                                      "reason": "shorter than min_clip (20 s)"},
                                     {"start_s": 8.0, "end_s": 12.9, "duration_s": 4.9,
                                      "reason": "shorter than min_clip (20 s)"}]})
    why = shortfall(video)
    assert why.sentence == "No clip was kept: 2 speech runs of 6.6 s and 4.9 s were shorter than min_clip 20 s."
    assert why.suggested_min_clip == 4.0
    Video.objects.filter(pk=video.pk).update(report={"totals": {"clips": 3}})
    video.refresh_from_db()
    assert shortfall(video) is None  # nothing lost: nothing said


@pytest.mark.slow
def test_zero_clips_then_reprocess_from_the_page_keeps_curation(client, lab, media):
    video = uploaded(lab["dataset"], media("talk3.mp4"), max_gap=1.5)  # default min_clip 20 s: nothing fits
    process_here(video.pk)
    video.refresh_from_db()
    assert video.status == Video.Status.DONE and not video.clips.exists()
    client_for(client, "ana")
    page = client.get(reverse("video_detail", args=[video.pk])).content.decode()
    assert "No clip was kept: 3 speech runs of" in page and "shorter than min_clip 20 s" in page
    assert "Reprocess with min_clip 4 s" in page
    listing = client.get(reverse("dataset_detail", args=[lab["dataset"].pk])).content.decode()
    assert "No clip was kept" in listing and "reprocess with min_clip 4 s" in listing

    assert client.post(reverse("video_reprocess", args=[video.pk]), {"min_clip": "4"}).status_code == 302
    video.refresh_from_db()
    assert video.status == Video.Status.QUEUED and video.params == {"max_gap": 1.5, "min_clip": 4.0}
    process_here(video.pk)
    clips = list(Clip.objects.filter(video=video).order_by("source_start_s"))
    assert len(clips) == 3
    # curate, then reprocess with a slightly different setting: the curation follows the speech
    first, second = clips[0], clips[1]
    tag = lab["dataset"].tags.create(name="keeper")
    first.tags.add(tag)
    Clip.objects.filter(pk=second.pk).update(rejected=True)
    old_files = {Path(video.output_dir) / c.files["video"]["path"] for c in clips}
    assert client.post(reverse("video_reprocess", args=[video.pk]), {"min_clip": "3"}).status_code == 302
    assert not any(p.exists() for p in old_files)  # the old clips' files went with them
    process_here(video.pk)
    new = list(Clip.objects.filter(video=video).order_by("source_start_s"))
    assert len(new) == 3 and {c.pk for c in new}.isdisjoint({c.pk for c in clips})
    assert [sorted(t.name for t in c.tags.all()) for c in new] == [["keeper"], [], []]
    assert [c.rejected for c in new] == [False, True, False]
    video.refresh_from_db()
    assert video.carry_over == []


def test_reprocess_is_refused_while_running_and_for_viewers(client, lab, media):
    video = uploaded(lab["dataset"], media("retalk_face1.mp4"))
    client_for(client, "vic")
    assert client.post(reverse("video_reprocess", args=[video.pk]), {"min_clip": "2"}).status_code == 403
    client_for(client, "ana")
    response = client.post(reverse("video_reprocess", args=[video.pk]), {"min_clip": "2"}, follow=True)
    assert "cancel it first" in response.content.decode()
    Video.objects.filter(pk=video.pk).update(status=Video.Status.DONE)
    response = client.post(reverse("video_reprocess", args=[video.pk]), {"min_clip": "0.1"}, follow=True)
    assert "min_clip must be between" in response.content.decode()
    client_for(client, "out")
    assert client.post(reverse("video_reprocess", args=[video.pk]), {"min_clip": "2"}).status_code == 404


@pytest.mark.slow
def test_deleting_a_video_removes_its_rows_and_files(client, lab, media):
    video = uploaded(lab["dataset"], media("retalk_face2.mp4"), min_clip=1.0)
    process_here(video.pk)
    folder = Path(video.source_path).parent
    clip = Clip.objects.get(video=video)
    client_for(client, "ana")
    assert client.get(reverse("clip_thumbnail", args=[clip.pk])).status_code == 200
    thumbnail = Path(settings.DATA_DIR) / "thumbnails" / f"{clip.pk}.jpg"
    assert thumbnail.exists() and folder.exists()
    confirm = client.get(reverse("video_delete", args=[video.pk])).content.decode()
    assert "1 clip</strong>" in confirm and "It cannot be undone" in confirm
    client_for(client, "vic")
    assert client.post(reverse("video_delete", args=[video.pk])).status_code == 403
    assert folder.exists()
    client_for(client, "ana")
    done = client.post(reverse("video_delete", args=[video.pk]), follow=True).content.decode()
    assert "Deleted retalk_face2.mp4: 1 clip" in done
    assert not folder.exists() and not thumbnail.exists()
    assert not Video.objects.filter(pk=video.pk).exists() and not Clip.objects.filter(pk=clip.pk).exists()


def test_members_create_datasets_and_admins_rename_and_delete_them(client, lab, media):
    client_for(client, "vic")
    assert client.post(reverse("dataset_create"), {"team": lab["team"].pk, "name": "x"}).status_code == 404
    client_for(client, "ana")
    created = client.post(reverse("dataset_create"), {"team": lab["team"].pk, "name": "interviews",
                                                      "description": "lab interviews"})
    dataset = Dataset.objects.get(name="interviews")
    assert created.url == reverse("dataset_detail", args=[dataset.pk]) and dataset.created_by == lab["ana"]
    again = client.post(reverse("dataset_create"), {"team": lab["team"].pk, "name": "interviews"}, follow=True)
    assert "already has a dataset named" in again.content.decode() and Dataset.objects.filter(name="interviews").count() == 1
    assert client.get(reverse("dataset_settings", args=[dataset.pk])).status_code == 403  # members do not rename

    video = uploaded(dataset, media("retalk_face3.mp4"))
    Video.objects.filter(pk=video.pk).update(status=Video.Status.DONE)
    folder = Path(video.source_path).parent
    client_for(client, "boss")
    client.post(reverse("dataset_settings", args=[dataset.pk]), {"name": "interviews 2026", "description": "new"})
    dataset.refresh_from_db()
    assert (dataset.name, dataset.description) == ("interviews 2026", "new")
    page = client.get(reverse("dataset_settings", args=[dataset.pk])).content.decode()
    assert "Deletes its 1 video, 0 clips" in page
    client_for(client, "out")
    assert client.post(reverse("dataset_delete", args=[dataset.pk])).status_code == 404
    client_for(client, "boss")
    client.post(reverse("dataset_delete", args=[dataset.pk]))
    assert not Dataset.objects.filter(pk=dataset.pk).exists() and not folder.exists()


def test_other_teams_get_404_for_every_new_change(client, lab, media):
    video = uploaded(lab["dataset"], media("retalk_face1.mp4"))
    Video.objects.filter(pk=video.pk).update(status=Video.Status.DONE)
    client_for(client, "out")
    assert client.get(reverse("video_delete", args=[video.pk])).status_code == 404
    assert client.post(reverse("video_delete", args=[video.pk])).status_code == 404
    assert client.post(reverse("batch_update", args=[lab["dataset"].pk]),
                       {"batch_action": "reject", "expected": 0}).status_code == 404
    assert client.get(reverse("dataset_settings", args=[lab["dataset"].pk])).status_code == 404
    assert client.post(reverse("dataset_create"), {"team": lab["team"].pk, "name": "theirs"}).status_code == 404
    assert Video.objects.filter(pk=video.pk).exists() and Path(video.source_path).exists()
