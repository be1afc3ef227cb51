"""Quality reports: figures aggregated on the server, links that list exactly a bar's clips, team scoping."""
from __future__ import annotations

import json
import random
import re
import shutil

import pytest
from django.urls import reverse

from catalog.filters import ClipFilter
from catalog.importer import import_folder
from catalog.models import Clip, Video
from reports.data import LOWEST_MAX, POINTS_MAX
from testing.support import figures, login


def listed(client, url: str) -> int:
    """How many clips the clip table says a link lists."""
    page = client.get(url).content.decode()
    return int(re.search(r'id="clip-count">(\d+) clip', page).group(1))


def test_dataset_report_aggregates_the_clips(client, lab, talk3_dataset):
    login(client, "vic")
    talks = lab["talks"]
    response = client.get(reverse("dataset_report", args=[talks.pk]))
    assert response.status_code == 200
    figs = figures(response)
    assert {"score", "score-duration", "face-timeline", "under", "hist-valid", "hist-smooth", "hist-range",
            "hist-face", "hist-avlag", "hist-corr"} <= set(figs) and "dropped" not in figs  # nothing dropped: no empty chart
    assert sum(figs["score"]["counts"]) == 3
    scores = sorted(c["quality_score"] for c in talk3_dataset.clips)
    # few clips: every clip is a point, and a click opens that clip's viewer
    points = figs["score-duration"]["data"][0]
    assert sorted(points["y"]) == pytest.approx(scores, abs=0.01)
    clip_urls = {reverse("clip_detail", args=[c.pk]) for c in talks.clips.all()}
    assert set(points["customdata"]) == clip_urls
    assert "/static/vendor/plotly.min.js" in response.content.decode()
    assert "cdn" not in response.content.decode().lower()


def test_every_bar_links_to_exactly_its_clips(client, lab):
    login(client, "ana")
    talks = lab["talks"]
    figs = figures(client.get(reverse("dataset_report", args=[talks.pk])))
    for name in ("score", "hist-valid", "hist-smooth", "hist-face", "hist-avlag", "hist-duration"):
        trace = figs[name]["data"][0]
        for count, url in zip(trace["y"], trace["customdata"]):
            if count:
                assert listed(client, url) == count, (name, url)


def test_threshold_counts_clips_under_it(client, lab, talk3_dataset):
    login(client, "ana")
    talks = lab["talks"]
    scores = sorted(c["quality_score"] for c in talk3_dataset.clips)
    threshold = (scores[0] + scores[1]) / 2
    response = client.get(reverse("dataset_report", args=[talks.pk]), {"threshold": threshold})
    html = response.content.decode()
    assert re.search(r'id="report-under">1<', html)
    under = figures(response)["under"]["data"][0]
    lowest = talks.clips.order_by("quality_score").first()
    assert under["customdata"] == [reverse("clip_detail", args=[lowest.pk])]
    under_link = re.search(r'id="under-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert listed(client, under_link) == 1


def test_report_follows_the_catalog_filter(client, lab, talk3_dataset):
    login(client, "ana")
    talks = lab["talks"]
    scores = sorted(c["quality_score"] for c in talk3_dataset.clips)
    response = client.get(reverse("dataset_report", args=[talks.pk]), {"score_min": scores[1]})
    assert sum(figures(response)["score"]["counts"]) == 2
    catalog = client.get(reverse("dataset_detail", args=[talks.pk]), {"score_min": scores[1]}).content.decode()
    assert f'/datasets/{talks.pk}/report/?score_min={scores[1]}' in catalog


def test_video_report_shows_dropped_segments_and_clip_timeline(client, lab, talk3_dataset, tmp_path, media):
    """talk3 segmented with gaps < 0.6 s merged and clips >= 2 s drops the 3.51-4.56 s speech run (media README)."""
    from pipeline.audio.segment import SegmentParams, segment_speech
    from pipeline.audio.track import decode_audio

    folder = tmp_path / "talk3"
    shutil.copytree(talk3_dataset.root, folder)
    report = json.loads((folder / "dataset_report.json").read_text())
    segmentation = segment_speech(decode_audio(media("talk3.mp4")), SegmentParams(max_gap=0.6, min_clip=2))
    assert [(round(d["start_s"], 1), round(d["end_s"], 1)) for d in segmentation.dropped] == [(3.5, 4.6)]
    report["dropped_segments"] = segmentation.dropped
    (folder / "dataset_report.json").write_text(json.dumps(report))
    import_folder(lab["talks"], folder)
    video = Video.objects.get(output_dir=str(folder.resolve()))
    login(client, "vic")
    response = client.get(reverse("video_report", args=[video.pk]))
    html = response.content.decode()
    figs = figures(response)
    timeline = figs["face-timeline"]
    assert timeline["data"][0]["y"] == [1.0, 1.0, 1.0]  # a face in every frame of talk3
    assert [(s["x0"], s["x1"]) for s in timeline["layout"]["shapes"]] == [
        (d["start_s"], d["end_s"]) for d in segmentation.dropped]
    assert f"<td>{segmentation.dropped[0]['start_s']}</td>" in html
    assert sum(figs["score"]["counts"]) == 3  # only this video's clips
    dataset = client.get(reverse("dataset_report", args=[lab["talks"].pk]))
    dropped = figures(dataset)["dropped"]["data"][0]
    assert dropped["customdata"] == [reverse("video_report", args=[video.pk])]


def test_a_bad_filter_is_a_400_not_a_report_of_every_clip(client, lab):
    login(client, "ana")
    response = client.get(reverse("dataset_report", args=[lab["talks"].pk]), {"score_min": "lots"})
    html = response.content.decode()
    assert response.status_code == 400 and 'id="filter-errors"' in html and "score_min" in html
    assert "plotly" not in html.lower()  # no figures of the whole dataset
    for bad in ("nan", "abc", "101"):  # issue #25: an unusable threshold is said, not replaced by 60 in silence
        refused = client.get(reverse("dataset_report", args=[lab["talks"].pk]), {"threshold": bad})
        assert refused.status_code == 400 and "threshold" in refused.content.decode()
    fine = client.get(reverse("dataset_report", args=[lab["talks"].pk]), {"threshold": "75"})
    assert fine.status_code == 200 and 'value="75"' in fine.content.decode()
    empty = client.get(reverse("dataset_detail", args=[lab["talks"].pk]), {"score_min": "90", "score_max": "10"})
    text = empty.content.decode()
    assert empty.status_code == 400 and "90 is above score_max 10" in text  # not "0 clips" in silence
    assert ".." not in re.search(r'id="filter-errors"[^>]*>(.*?)</', client.get(
        reverse("dataset_report", args=[lab["talks"].pk]), {"score_min": "x"}).content.decode(), re.S).group(1)


def test_empty_dataset_report(client, lab):
    login(client, "bob")
    response = client.get(reverse("dataset_report", args=[lab["other"].pk]))
    assert response.status_code == 200
    assert sum(figures(response)["score"]["counts"]) == 0
    assert re.search(r'id="report-clips">0<', response.content.decode())


def test_other_teams_reports_are_not_found(client, lab):
    login(client, "bob")
    talks = lab["talks"]
    video = talks.videos.first()
    assert client.get(reverse("dataset_report", args=[talks.pk])).status_code == 404
    assert client.get(reverse("video_report", args=[video.pk])).status_code == 404
    assert client.get(reverse("dataset_download", args=[talks.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("dataset_report", args=[talks.pk])).status_code == 302  # to the log-in page


def test_many_clips_are_binned_not_shipped_one_by_one(client, lab):
    """Above POINTS_MAX clips, score vs duration is a 2-D histogram and only the lowest clips are points."""
    talks = lab["talks"]
    template = talks.clips.first()
    rng = random.Random(7)
    n = POINTS_MAX + 500
    fields = {f.name: getattr(template, f.name) for f in Clip._meta.concrete_fields if f.name not in ("id", "name")}
    rows = []
    for i in range(n):
        row = dict(fields, name=f"synthetic_{i:05d}", quality_score=round(rng.uniform(0, 100), 2),
                   duration_s=round(rng.uniform(2, 30), 3), face_rate=rng.random())
        rows.append(Clip(**row))
    Clip.objects.bulk_create(rows)
    login(client, "ana")
    response = client.get(reverse("dataset_report", args=[talks.pk]))
    figs = figures(response)
    total = n + 3
    assert sum(figs["score"]["counts"]) == total
    heat, points = figs["score-duration"]["data"]
    assert heat["type"] == "heatmap"
    assert sum(v for row in heat["z"] for v in row if v) == total
    assert len(points["customdata"]) == LOWEST_MAX
    lowest = list(talks.clips.order_by("quality_score", "id").values_list("quality_score", flat=True)[:LOWEST_MAX])
    assert sorted(points["y"]) == pytest.approx(lowest, abs=0.01)
    assert len(response.content) < 600_000  # aggregated: not a point per clip
    # one heatmap cell's link lists exactly the clips it counts
    r, c = next((r, c) for r, row in enumerate(heat["z"]) for c, v in enumerate(row) if v)
    assert listed(client, heat["customdata"][r][c]) == heat["z"][r][c]


def test_bin_edges_are_exact(lab):
    """A value on an edge belongs to the upper bin and its link (key_max just under the edge) agrees."""
    import numpy as np

    from reports.data import ClipColumns, Links, bin_index

    edges = np.linspace(0, 100, 21)
    values = np.array([0.0, 4.999, 5.0, 99.99, 100.0, np.nan])
    assert bin_index(values, edges).tolist() == [0, 0, 1, 19, 19, -1]
    links = Links("/clips/{}/", "/datasets/1/", {})
    url = links.table(score=(5.0, 10.0, False))
    form = ClipFilter(dict(pair.split("=") for pair in url.split("?")[1].split("&")))
    assert form.is_valid() and form.cleaned_data["score_min"] == 5.0 and form.cleaned_data["score_max"] < 10.0
    assert ClipColumns  # imported for the type


def test_migration_backfills_reports_of_earlier_imports(transactional_db, talk3_dataset):
    """Videos imported before Video.report existed get it from the dataset_report.json in their folder."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("catalog", "0001_initial")], executor.loader.graph.leaf_nodes("catalog")
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        OldTeam, OldDataset, OldVideo = (old_apps.get_model("catalog", m) for m in ("Team", "Dataset", "Video"))
        dataset = OldDataset.objects.create(team=OldTeam.objects.create(name="old lab"), name="old")
        video = OldVideo.objects.create(dataset=dataset, original_name="talk3.mp4", output_dir=str(talk3_dataset.root))
        stray = OldVideo.objects.create(dataset=dataset, original_name="gone.mp4", output_dir="/nonexistent")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    report = json.loads((talk3_dataset.root / "dataset_report.json").read_text())
    stored = Video.objects.get(pk=video.pk).report
    assert stored["dropped_segments"] == report["dropped_segments"] and stored["totals"] == report["totals"]
    assert Video.objects.get(pk=stray.pk).report == {}


def test_the_report_reads_every_value_as_stored_json_misses_and_nulls_as_gaps(lab):
    """load_columns takes its own fast paths (one JSON_EXTRACT on SQLite, binary results on PostgreSQL):
    every value must still be the clip's own, a key that is missing or null a NaN, never 0."""
    import math

    from reports.data import COLUMNS, load_columns

    clips = list(lab["talks"].clips.order_by("id"))
    first, second = clips[0], clips[1]
    first.quality = {k: v for k, v in first.quality.items() if k != "jitter"}  # never measured
    second.quality = {**second.quality, "sharpness": None}  # measured as nothing
    Clip.objects.bulk_update([first, second], ["quality"])
    columns = load_columns(lab["talks"].clips.order_by("id"))
    row = {int(i): n for n, i in enumerate(columns["id"])}
    for clip in lab["talks"].clips.all():
        for name in COLUMNS:
            got = columns[name][row[clip.pk]]
            want = clip.quality.get(name.removeprefix("quality__")) if name.startswith("quality__") else \
                getattr(clip, name)
            if want is None:
                assert math.isnan(got), (clip.name, name, got)
            else:
                assert got == float(want), (clip.name, name, got, want)
    assert math.isnan(columns["quality__jitter"][row[first.pk]])
    assert math.isnan(columns["quality__sharpness"][row[second.pk]])


def test_the_cached_report_columns_follow_every_change_of_the_clips(client, lab, talk3_dataset, settings):
    """Issue #23: the dataset's columns are read once per version (a .npy under DATA_DIR/cache), and a report
    is never stale: re-scoring, a rejection, a tag filter, an import and a deletion all show at once."""
    from pathlib import Path

    from catalog.models import Dataset, Tag
    from catalog.rescore import rescore
    from reports.data import dataset_columns

    talks = lab["talks"]
    login(client, "ana")
    url = reverse("dataset_report", args=[talks.pk])

    def scores(query: str = "") -> list[float]:
        figs = figures(client.get(url + query))
        return sorted(x for trace in figs["score-duration"]["data"] for x in trace.get("y", []))

    before = scores()
    assert len(before) == 3
    cached = list((Path(settings.DATA_DIR) / "cache" / "report-columns").glob(f"{talks.pk}-*.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    scores()
    assert cached[0].stat().st_mtime_ns == stamp, "the second report read the cached columns"

    rescore(talks, {"valid_rate": 1.0})  # re-scoring changes every score
    talks.refresh_from_db()
    after = scores()
    assert after != before and after == sorted(c.quality_score for c in talks.clips.all())
    assert len(list(cached[0].parent.glob(f"{talks.pk}-*.npy"))) == 1, "the old version's file is removed"

    first = talks.clips.order_by("name").first()
    Clip.objects.filter(pk=first.pk).update(rejected=True)  # no version bump needed: the filter is live
    assert len(scores()) == 2
    tag = Tag.objects.create(dataset=talks, name="keep")
    first.tags.add(tag)
    assert len(scores("?rejected=include&tag=keep")) == 1

    Clip.objects.filter(pk=first.pk).delete()
    assert len(dataset_columns(Dataset.objects.get(pk=talks.pk))) == 2

    copy = talks.clips.count()
    import_folder(talks, talk3_dataset.root)  # the deleted clip comes back with an import
    assert talks.clips.count() == copy + 1 and len(scores("?rejected=include")) == 3


def test_a_shifted_cache_would_be_seen(lab, talk3_dataset):
    """The cached columns are the clips' own values, row for row (a stale or shifted cache fails here)."""
    from catalog.models import Dataset
    from reports.data import COLUMNS, dataset_columns, load_columns

    talks = Dataset.objects.get(pk=lab["talks"].pk)
    cached = dataset_columns(talks)
    fresh = load_columns(talks.clips.all())
    order_c, order_f = cached["id"].argsort(), fresh["id"].argsort()
    for name in COLUMNS:
        a, b = cached[name][order_c], fresh[name][order_f]
        assert ((a == b) | (a != a) & (b != b)).all(), name
    import numpy as np

    assert not np.array_equal(cached["quality_score"][order_c], np.roll(fresh["quality_score"][order_f], 1))


def test_the_vocabulary_migration_keeps_every_value(live_lab):
    """catalog 0013 renames the lip-sync columns and the video's source name: a database of the previous
    version keeps its values under the new names (and the dropped av_sync_weak is the verdict's negation)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    Clip.objects.filter(pk=Clip.objects.first().pk).update(lip_sync_offset_ms=-40.0, lip_sync_offset_abs_ms=40.0,
                                                           lip_sync_confidence=3.2)
    clip = Clip.objects.filter(lip_sync_offset_ms=-40.0).select_related("video").get()
    values = (clip.lip_sync_offset_ms, clip.lip_sync_offset_abs_ms, clip.lip_sync_confidence, clip.video.source_name)
    before = [("catalog", "0012_dataset_clips_version")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        old = old_apps.get_model("catalog", "Clip").objects.select_related("video").get(pk=clip.pk)
        assert (old.av_lag_ms, old.av_lag_abs_ms, old.av_correlation, old.video.original_name) == values
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    clip = Clip.objects.select_related("video").get(pk=clip.pk)
    assert (clip.lip_sync_offset_ms, clip.lip_sync_offset_abs_ms, clip.lip_sync_confidence,
            clip.video.source_name) == values


def test_the_report_counts_clips_per_verdict_and_a_bar_lists_them(client, lab):
    """Issue #20 (6): a chart of the verdicts, in words, best first; a bar's link lists exactly its clips."""
    talks = lab["talks"]
    clips = list(talks.clips.order_by("name"))
    for clip, verdict in zip(clips, ("mismatch", "in_sync", "in_sync")):
        Clip.objects.filter(pk=clip.pk).update(lip_sync_verdict=verdict)
    client.force_login(lab["users"]["vic"])
    verdicts = figures(client.get(reverse("dataset_report", args=[talks.pk])))["verdicts"]
    bar = verdicts["data"][0]
    assert bar["x"] == ["in sync", "audio does not match"] and bar["y"] == [2, 1]
    assert listed(client, bar["customdata"][0]) == 2 and listed(client, bar["customdata"][1]) == 1
