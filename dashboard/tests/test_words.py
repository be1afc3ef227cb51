"""Words and layout a new lab member meets: explained settings, a clean curl example, sensible report axes."""
from __future__ import annotations

import re

from django.urls import reverse

from catalog.models import Video
from testing.support import figures, login
from uploads.form import UploadParamsForm


def test_every_upload_setting_is_explained_beside_it(client, lab):
    login(client, "ana")
    page = client.get(reverse("dataset_detail", args=[lab["talks"].pk])).content.decode()
    for name, field in UploadParamsForm.base_fields.items():
        assert field.help_text, name
        assert f'<span class="help">{field.help_text}</span>'.replace("'", "&#x27;") in page, name


def test_the_curl_example_carries_only_the_active_filter(client, lab):
    login(client, "vic")
    empty_fields = {name: "" for name in ("q", "tag", "score_max", "face_min", "sync", "speaking")}
    page = client.get(reverse("dataset_detail", args=[lab["talks"].pk]), {**empty_fields, "score_min": "10"})
    html = page.content.decode()
    curl = re.search(r'<code class="wrap">(curl .*?)</code>', html, re.S).group(1)
    assert "?score_min=10&amp;files=video,blendshapes" in curl
    assert "tag=" not in curl and "q=" not in curl


def test_a_short_recordings_timeline_starts_at_zero(client, lab):
    login(client, "vic")
    video = lab["talks"].videos.get()
    timeline = next(f for name, f in figures(client.get(reverse("video_report", args=[video.pk]))).items()
                    if "timeline" in name or "face" in name)
    low, high = timeline["layout"]["xaxis"]["range"]
    ends = [c.source_end_s for c in video.clips.all()]
    assert low == 0 and max(ends) <= high <= max(ends) * 1.1
    assert all(trace.get("cliponaxis") is False for trace in timeline["data"])  # the dot at 0 s is drawn whole


def test_a_filtered_report_counts_only_the_videos_in_the_filter(client, lab):
    talks = lab["talks"]
    Video.objects.create(dataset=talks, source_name="other.mp4", output_dir="/x", status=Video.Status.DONE,
                         report={"dropped_segments": [{"start_s": 0, "end_s": 3, "duration_s": 3.0,
                                                       "reason": "shorter than min_clip (20 s)"}] * 4})
    clip = talks.clips.first()
    clip.tags.add(talks.tags.create(name="pick"))
    login(client, "vic")
    everything = client.get(reverse("dataset_report", args=[talks.pk])).context["summary"]["dropped"]
    filtered = client.get(reverse("dataset_report", args=[talks.pk]), {"tag": "pick"}).context["summary"]["dropped"]
    assert everything >= 4 and filtered == everything - 4
