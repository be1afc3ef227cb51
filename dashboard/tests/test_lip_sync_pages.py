"""Issue #20 (3, 6): the recording's pooled lip sync on its video page, the recording offsets in the dataset
report, and the clip viewer's words for the confidence."""
from __future__ import annotations

import json

from django.urls import reverse

from catalog.models import Clip
from testing.support import login


def test_the_video_page_shows_its_recordings_pooled_lip_sync(client, lab):
    login(client, "vic")
    video = lab["talks"].videos.get()
    sync = video.report["lip_sync"]
    assert sync["clips"] == 3 and sync["verdict"]
    page = client.get(reverse("video_detail", args=[video.pk])).content.decode()
    assert 'id="recording-sync"' in page and f"{sync['clips']} clips" in page
    figure = page.split('id="recording-sync-figure"')[1].split(">", 1)[1].split("</script>")[0]
    data = json.loads(figure)["data"]
    assert data[-1]["y"] == sync["curve_scores"] and len(data[-1]["x"]) == 51
    assert "false-alarm probability" in page.lower()


def test_the_report_charts_the_recordings_offsets_and_the_viewer_says_what_confidence_means(client, lab):
    login(client, "vic")
    page = client.get(reverse("dataset_report", args=[lab["talks"].pk])).content.decode()
    assert "Audio offset per recording" in page
    clip = Clip.objects.filter(dataset=lab["talks"]).order_by("name").first()
    viewer = client.get(reverse("clip_detail", args=[clip.pk])).content.decode()
    assert "how likely a peak this high would be if the audio belonged to someone else" in viewer
    assert "pooled over 3 clips" in viewer


def test_the_video_page_and_the_reports_show_the_recordings_shots(client, lab):
    login(client, "vic")
    video = lab["talks"].videos.get()
    shots = video.report["shots"]
    assert shots["cuts"] == 2  # talk3's two hard cuts
    page = client.get(reverse("video_detail", args=[video.pk])).content.decode()
    assert 'id="shots"' in page and "2 cuts" in page and f"cut at {shots['boundaries'][0]['start_s']:.2f} s" in page
    report = client.get(reverse("video_report", args=[video.pk])).content.decode()
    assert 'id="report-shots"' in report and f"cut at {shots['boundaries'][0]['start_s']:.2f} s" in report
    whole = client.get(reverse("dataset_report", args=[lab["talks"].pk])).content.decode()
    assert 'id="shots-by-video"' in whole and video.source_name in whole
