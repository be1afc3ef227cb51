"""The catalog: import a make_dataset folder, list, filter, sort, page, tag, reject; team scoping."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog.importer import import_folder
from catalog.models import Clip, Dataset, Video
from testing.support import login


def test_import_creates_clips_once(lab, talk3_dataset):
    talks = lab["talks"]
    assert talks.clips.count() == 3
    video = Video.objects.get(dataset=talks)
    assert video.source_name == "talk3.mp4" and video.status == Video.Status.DONE and video.clips_total == 3
    again = import_folder(talks, talk3_dataset.root)
    assert (again.created, again.updated) == (0, 3)
    assert talks.clips.count() == 3
    first = talks.clips.order_by("name").first()
    assert first.file_path("video").exists()
    assert first.quality_score == talk3_dataset.clips[0]["quality_score"]


def test_import_command(lab, talk3_dataset, capsys):
    call_command("import_dataset", str(talk3_dataset.root), "--team", "Lab A", "--dataset", "copy")
    assert "3 clips added" in capsys.readouterr().out
    assert Dataset.objects.get(name="copy").clips.count() == 3


def test_import_command_errors_are_one_line(lab, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no team named 'Nobody'") as missing_team:
        call_command("import_dataset", str(tmp_path), "--team", "Nobody", "--dataset", "y")
    with pytest.raises(CommandError, match="no manifest.jsonl here") as plain_folder:
        call_command("import_dataset", str(tmp_path), "--team", "Lab A", "--dataset", "y")
    assert missing_team.value.returncode == plain_folder.value.returncode == 2
    assert not Dataset.objects.filter(name="y").exists()


def test_import_rejects_missing_files(lab, talk3_dataset, tmp_path):
    import shutil

    from pipeline.errors import InputError

    copy = tmp_path / "copy"
    shutil.copytree(talk3_dataset.root, copy)
    (copy / "clips" / "clip_0001.mp4").unlink()
    with pytest.raises(InputError, match="clip_0001.mp4 is missing"):
        import_folder(lab["talks"], copy)


def test_home_lists_only_my_teams_datasets(client, lab):
    page = login(client, "ana").get(reverse("home")).content.decode()
    assert "talks" in page and "secret" not in page
    assert ">3<" in page.replace(" ", "")  # three clips counted


def test_every_row_links_its_own_clip(client, lab):
    """The per-clip links are reversed once a page and filled in per row: each row must name its own clip."""
    page = login(client, "ana").get(reverse("dataset_detail", args=[lab["talks"].pk])).content.decode()
    clips = list(lab["talks"].clips.all())
    assert len(clips) == 3
    for clip in clips:
        for url in [reverse("clip_detail", args=[clip.pk]) + "?sort=name", reverse("clip_thumbnail", args=[clip.pk]),
                    reverse("clip_update", args=[clip.pk])] + [reverse("clip_file", args=[clip.pk, role]) for role in
                                                               ("video", "blendshapes", "audio", "audio_features",
                                                                "metadata")]:
            assert f'"{url}"' in page, url
        assert f"<td>{clip.duration_s:.2f}</td>" in page and f">{clip.quality_score:.1f}<" in page
    assert "987654321" not in page


def test_filter_by_score_changes_the_table(client, lab):
    login(client, "vic")
    url = reverse("dataset_detail", args=[lab["talks"].pk])
    all_clips = client.get(url)
    assert all_clips.context["page"].paginator.count == 3
    scores = sorted(lab["talks"].clips.values_list("quality_score", flat=True))
    threshold = (scores[0] + scores[1]) / 2
    filtered = client.get(url, {"score_min": threshold})
    assert filtered.context["page"].paginator.count == 2
    assert all(c.quality_score >= threshold for c in filtered.context["page"])
    ordered = client.get(url, {"sort": "-score"})
    got = [c.quality_score for c in ordered.context["page"]]
    assert got == sorted(got, reverse=True)


def test_bad_filter_values_are_said_and_select_nothing(client, lab):
    login(client, "vic")
    response = client.get(reverse("dataset_detail", args=[lab["talks"].pk]), {"score_min": "lots", "sort": "drop table"})
    assert response.status_code == 400
    assert response.context["page"].paginator.count == 0
    assert "score_min" in response.context["filter_problems"]


def test_pages_and_no_n_plus_one(client, lab, django_assert_max_num_queries):
    talks = lab["talks"]
    video = talks.videos.first()
    template = talks.clips.first()
    Clip.objects.bulk_create([
        Clip(dataset=talks, video=video, source_name=video.source_name, name=f"clip_{i:04d}", source_start_s=i, source_end_s=i + 5, duration_s=5,
             fps=25, frames=125, face_frames=125, face_rate=1.0, quality_score=i % 100, valid_rate=1, smoothness=0.5,
             range_validity=1, lip_sync_offset_ms=10, lip_sync_offset_abs_ms=10, speech_ratio=0.8, files=template.files)
        for i in range(1000, 1130)])
    login(client, "vic")
    url = reverse("dataset_detail", args=[talks.pk])
    with django_assert_max_num_queries(12):
        first = client.get(url, {"score_min": 10})
    assert first.context["page"].paginator.num_pages == 3
    second = client.get(url, {"score_min": 10, "page": 2})
    assert second.context["page"].number == 2
    assert b"score_min=10" in second.content  # the filter stays in every link


def test_tag_and_reject(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    login(client, "ana")
    client.post(reverse("clip_update", args=[clip.pk]), {"action": "tag", "tag": "good-light"})
    client.post(reverse("clip_update", args=[clip.pk]), {"action": "reject"})
    clip.refresh_from_db()
    assert clip.rejected and list(clip.tags.values_list("name", flat=True)) == ["good-light"]
    url = reverse("dataset_detail", args=[lab["talks"].pk])
    assert client.get(url).context["page"].paginator.count == 2  # rejected clips are hidden by default
    assert client.get(url, {"rejected": "only"}).context["page"].paginator.count == 1
    assert client.get(url, {"tag": "good-light", "rejected": "include"}).context["page"].paginator.count == 1


def test_viewer_cannot_edit(client, lab):
    clip = lab["talks"].clips.first()
    login(client, "vic")
    response = client.post(reverse("clip_update", args=[clip.pk]), {"action": "reject"})
    assert response.status_code == 403
    clip.refresh_from_db()
    assert not clip.rejected


def test_other_team_gets_404_everywhere(client, lab):
    clip = lab["talks"].clips.first()
    login(client, "bob")
    assert client.get(reverse("dataset_detail", args=[lab["talks"].pk])).status_code == 404
    assert client.get(reverse("clip_thumbnail", args=[clip.pk])).status_code == 404
    assert client.post(reverse("clip_update", args=[clip.pk]), {"action": "reject"}).status_code == 404
    clip.refresh_from_db()
    assert not clip.rejected


def test_clip_files_are_served_to_the_team_only(client, lab, talk3_dataset):
    clip = lab["talks"].clips.order_by("name").first()
    login(client, "vic")
    csv_file = client.get(reverse("clip_file", args=[clip.pk, "blendshapes"]))
    assert csv_file.status_code == 200 and "attachment" in csv_file["Content-Disposition"]
    expected = (talk3_dataset.root / "data" / "clip_0000_blendshapes.csv").read_bytes()
    assert b"".join(csv_file.streaming_content) == expected
    meta = client.get(reverse("clip_file", args=[clip.pk, "metadata"]))
    assert b"".join(meta.streaming_content).startswith(b"{")
    assert client.get(reverse("clip_file", args=[clip.pk, "secrets"])).status_code == 404
    login(client, "bob")
    assert client.get(reverse("clip_file", args=[clip.pk, "video"])).status_code == 404


def test_thumbnail_is_a_jpeg(client, lab):
    clip = lab["talks"].clips.first()
    login(client, "vic")
    response = client.get(reverse("clip_thumbnail", args=[clip.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_home_says_speech_in_minutes_below_an_hour(client, lab):
    """Issue #25 (11): "Speech hours 0.01" said nothing; below an hour the home page counts minutes."""
    from catalog.templatetags.catalog_tags import speech_time

    page = login(client, "ana").get(reverse("home")).content.decode()
    seconds = sum(c.duration_s for c in lab["talks"].clips.all())
    assert speech_time(seconds) in page and speech_time(seconds).endswith(" min")
    assert (speech_time(5400), speech_time(1800), speech_time(30)) == ("1.5 h", "30 min", "0.5 min")
