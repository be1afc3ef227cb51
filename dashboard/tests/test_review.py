"""Curating at speed: search, the viewer walking the table's list, curation without reloads, batch changes."""
from __future__ import annotations

import re

from django.urls import reverse

from catalog.models import Clip
from testing.support import login


def test_search_by_clip_or_source_name(client, lab):
    talks = lab["talks"]
    login(client, "vic")
    url = reverse("dataset_detail", args=[talks.pk])
    assert client.get(url, {"q": "clip_0001"}).context["page"].paginator.count == 1
    assert client.get(url, {"q": "TALK3"}).context["page"].paginator.count == 3  # the source name, any case
    assert client.get(url, {"q": "nothing-like-it"}).context["page"].paginator.count == 0


def test_the_viewer_steps_through_the_tables_filtered_sorted_list(client, lab):
    talks = lab["talks"]
    by_score = list(talks.clips.order_by("-quality_score", "id"))
    login(client, "vic")
    query = "sort=-score&score_min=0"
    page = client.get(reverse("clip_detail", args=[by_score[1].pk]) + "?" + query).content.decode()
    in_html = re.escape(query.replace("&", "&amp;"))
    assert re.search(r'id="prev-clip" href="/clips/%d/\?%s"' % (by_score[0].pk, in_html), page)
    assert re.search(r'id="next-clip" href="/clips/%d/\?%s"' % (by_score[2].pk, in_html), page)
    assert "2 of 3 in" in page
    table = client.get(reverse("dataset_detail", args=[talks.pk]), {"sort": "-score"}).content.decode()
    assert f'href="/clips/{by_score[0].pk}/?sort=-score"' in table  # the table's links carry its list


def test_tag_and_reject_answer_json_for_the_viewer(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    login(client, "ana")
    url = reverse("clip_update", args=[clip.pk])
    state = client.post(url, {"action": "tag", "tag": "good"}, HTTP_ACCEPT="application/json").json()
    assert state == {"rejected": False, "tags": ["good"]}
    state = client.post(url, {"action": "reject"}, HTTP_ACCEPT="application/json").json()
    assert state == {"rejected": True, "tags": ["good"]}


def test_batch_changes_every_clip_of_the_view_once_the_count_is_confirmed(client, lab):
    talks = lab["talks"]
    scores = sorted(c.quality_score for c in talks.clips.all())
    threshold = (scores[0] + scores[1]) / 2  # two clips at or above it
    url = reverse("batch_update", args=[talks.pk])
    login(client, "vic")
    assert client.post(url, {"score_min": threshold, "batch_action": "reject", "expected": 2}).status_code == 403
    login(client, "ana")
    unknown = client.post(url, {"score_min": threshold, "batch_action": "delete", "expected": 2}, follow=True)
    assert "choose an action" in unknown.content.decode()
    stale = client.post(url, {"score_min": threshold, "batch_action": "reject", "expected": 3}, follow=True)
    assert "now holds 2 clips, not the 3" in stale.content.decode()
    assert not talks.clips.filter(rejected=True).exists()
    done = client.post(url, {"score_min": threshold, "batch_action": "tag", "batch_tag": "keep", "expected": 2,
                             "query": f"score_min={threshold}"}, follow=True)
    assert "2 of 2 clips tagged" in done.content.decode()
    assert set(Clip.objects.filter(tags__name="keep").values_list("quality_score", flat=True)) == set(scores[1:])
    client.post(url, {"score_min": threshold, "batch_action": "reject", "expected": 2})
    assert talks.clips.filter(rejected=True).count() == 2
    # rejected clips leave the default view: accepting them again means showing them
    client.post(url, {"rejected": "only", "batch_action": "accept", "expected": 2})
    client.post(url, {"tag": "keep", "batch_action": "untag", "batch_tag": "keep", "expected": 2})
    assert not talks.clips.filter(rejected=True).exists() and not Clip.objects.filter(tags__name="keep").exists()


def test_the_video_list_status_names_every_video_its_why_and_the_clip_count(client, lab):
    """Issue #25 (1): what video_list.js polls carries videos added after the page was drawn (name and link),
    why a finished one kept few clips, and the dataset's clip count the table offers to refresh for."""
    from catalog.models import Video

    login(client, "ana")
    talks = lab["talks"]
    url = reverse("dataset_video_status", args=[talks.pk])
    before = client.get(url).json()
    assert before["clips"] == 3 and [v["name"] for v in before["videos"]] == ["talk3.mp4"]
    new = Video.objects.create(dataset=talks, source_name="interview.mp4", output_dir="/nonexistent",
                               status=Video.Status.DONE, report={"totals": {"clips": 0}, "dropped_segments": [
                                   {"duration_s": 4.0, "reason": "shorter than min_clip (20 s)"}]})
    after = client.get(url).json()
    row = next(v for v in after["videos"] if v["id"] == new.pk)
    assert row["name"] == "interview.mp4" and row["url"] == reverse("video_detail", args=[new.pk])
    assert row["status"] == "done" and row["why"].startswith("No clip was kept: 1 speech run of 4.0 s")
    page = client.get(reverse("dataset_detail", args=[talks.pk])).content.decode()
    assert 'id="new-clips"' in page and 'data-clips="3"' in page
    login(client, "bob")
    assert client.get(url).status_code == 404


def test_the_job_page_says_its_settings_when_it_ran_and_why_clips_lost_points_as_it_ends(client, lab):
    """Issue #25 (3, 4): the settings the job ran with (changed ones marked), when it started and how long it
    took; and "Why clips lost points" comes with the status that says the job is done (no reload needed)."""
    from datetime import timedelta

    from django.utils import timezone

    from catalog.models import Video

    login(client, "ana")
    video = lab["talks"].videos.get()
    start = timezone.now() - timedelta(minutes=2, seconds=5)
    Video.objects.filter(pk=video.pk).update(params={"min_clip": 2.0, "max_gap": 1.5}, started=start,
                                             finished=start + timedelta(seconds=83), status=Video.Status.RUNNING)
    running = client.get(reverse("video_status", args=[video.pk])).json()
    assert running["lowest"] == [] and running["took"] == "1 min 23 s"
    Video.objects.filter(pk=video.pk).update(status=Video.Status.DONE)
    done = client.get(reverse("video_status", args=[video.pk])).json()
    worst = Clip.objects.filter(video=video).order_by("quality_score", "name").first()
    Clip.objects.filter(pk=worst.pk).update(quality_reasons=["face small: 38 px between the eyes", "jittery"])
    done = client.get(reverse("video_status", args=[video.pk])).json()
    assert done["started"].startswith(start.isoformat()[:19]) and done["finished"]
    assert done["lowest"][0] == {"name": worst.name, "url": reverse("clip_detail", args=[worst.pk]),
                                 "score": round(worst.quality_score, 1),
                                 "reasons": "face small: 38 px between the eyes; jittery"}
    page = client.get(reverse("video_detail", args=[video.pk])).content.decode()
    settings = re.search(r'<p id="job-settings".*?</p>', page, re.S).group(0)
    assert '<span class="changed">min_clip 2.0 s</span>' in settings and "max_gap 1.5 s" in settings
    assert "took 1 min 23 s" in page and 'id="low-clips"' in page
