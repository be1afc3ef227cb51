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
