"""The viewer, reports and downloads in real headless Chromium: play a clip and watch the cursor follow, click a
chart to seek, click a report point to reach its clip, filter and download the filtered zip."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest

from testing.browser import ARTIFACTS, logged_in_page

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser, live_server, live_lab):  # noqa: F811
    page = logged_in_page(browser, live_server)
    yield page
    page.context.close()


def plot_point(page, chart: str, trace: int, index: int) -> dict:
    """Viewport coordinates of one point of a Plotly chart (from its axes), with the point's data."""
    page.locator(f"#{chart}").scroll_into_view_if_needed()
    return page.evaluate("""([id, t, i]) => {
        const gd = document.getElementById(id), L = gd._fullLayout, box = gd.getBoundingClientRect();
        const tr = gd._fullData[t], xa = L.xaxis, ya = L.yaxis;
        return {x: box.left + L._size.l + xa.d2p(tr.x[i]), y: box.top + L._size.t + ya.d2p(tr.y[i]),
                text: tr.text ? tr.text[i] : null, url: tr.customdata[i]};
    }""", [chart, trace, index])


def chart_x_to_page(page, chart: str, x: float) -> dict:
    page.locator(f"#{chart}").scroll_into_view_if_needed()
    return page.evaluate("""([id, x]) => {
        const gd = document.getElementById(id), L = gd._fullLayout, box = gd.getBoundingClientRect();
        return {x: box.left + L._size.l + L.xaxis.d2p(x), y: box.top + L._size.t + L._size.h / 2};
    }""", [chart, x])


def test_play_clip_cursor_follows_and_click_seeks(page, live_server, live_lab):
    clip = live_lab["talks"].clips.order_by("name").first()
    page.goto(f"{live_server.url}/clips/{clip.pk}/")
    page.wait_for_selector("#chart-controls[data-ready='1']")
    page.wait_for_function("document.getElementById('clip-video').readyState >= 2", timeout=30_000)
    assert page.get_attribute("#curves-chart", "data-cursor") == "0.000"
    page.evaluate("() => { const v = document.getElementById('clip-video'); v.muted = true; return v.play(); }")
    page.wait_for_function("parseFloat(document.getElementById('curves-chart').dataset.cursor) > 1.0", timeout=30_000)
    page.evaluate("() => document.getElementById('clip-video').pause()")
    page.wait_for_timeout(300)
    video_time = page.evaluate("() => document.getElementById('clip-video').currentTime")
    for chart in ("curves-chart", "features-chart"):
        cursor = float(page.get_attribute(f"#{chart}", "data-cursor"))
        assert cursor == pytest.approx(video_time, abs=0.01), chart
    shape_x = page.evaluate("""() => { const s = document.getElementById('curves-chart').layout.shapes;
                                        return s[s.length - 1].x0; }""")
    assert shape_x == pytest.approx(video_time, abs=0.01)
    page.screenshot(path=str(ARTIFACTS / "clip-viewer-playing.png"), full_page=True)

    target = chart_x_to_page(page, "curves-chart", 3.0)  # click the chart at 3 s: the video jumps there
    page.mouse.move(target["x"], target["y"])
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function("Math.abs(document.getElementById('clip-video').currentTime - 3.0) < 0.1", timeout=10_000)
    page.wait_for_function("Math.abs(parseFloat(document.getElementById('features-chart').dataset.cursor) - 3.0) < 0.1")

    frame = int(page.text_content("#clip-frame"))
    page.keyboard.press("ArrowRight")  # frame by frame, to check alignment
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.getElementById('clip-frame').textContent === '{frame + 2}'", timeout=5_000)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"document.getElementById('clip-frame').textContent === '{frame + 1}'", timeout=5_000)
    frame_time = page.evaluate(f"() => fetch('{live_server.url}/clips/{clip.pk}/curves.json').then(r => r.json())"
                               f".then(d => d.time_s[{frame + 1}])")
    assert page.evaluate("() => document.getElementById('clip-video').currentTime") == pytest.approx(frame_time + 0.001,
                                                                                                    abs=1e-4)

    page.fill("#tag-form input[name=tag]", "checked")  # tags are editable here too
    page.click("#tag-form button")
    page.wait_for_selector("#clip-tags .pill:has-text('checked')")
    page.screenshot(path=str(ARTIFACTS / "clip-viewer-tagged.png"), full_page=True)


def test_report_point_opens_its_clip(page, live_server, live_lab):
    talks = live_lab["talks"]
    page.goto(f"{live_server.url}/datasets/{talks.pk}/report/")
    page.wait_for_selector("#chart-score-duration[data-ready='1']")
    page.locator("#chart-score").scroll_into_view_if_needed()
    page.wait_for_selector("#chart-score[data-ready='1']")
    page.locator("#chart-score-duration").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dataset-report.png"), full_page=True)
    point = plot_point(page, "chart-score-duration", 0, 1)
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(f"**{point['url']}", timeout=10_000)
    assert point["text"].endswith(page.text_content("h1").split()[0])  # the clicked point's clip opened
    page.screenshot(path=str(ARTIFACTS / "report-click-opened-clip.png"), full_page=True)
    page.click("p.crumbs a:last-child")  # the clip's video report
    page.locator("#chart-face-timeline").scroll_into_view_if_needed()  # charts are drawn as they come near
    page.wait_for_selector("#chart-face-timeline[data-ready='1']")
    assert page.text_content("#report-clips") == "3"
    page.screenshot(path=str(ARTIFACTS / "video-report.png"), full_page=True)


def test_filter_then_download_the_filtered_zip(page, live_server, live_lab):
    talks = live_lab["talks"]
    scores = sorted(talks.clips.values_list("quality_score", flat=True))
    threshold = (scores[0] + scores[1]) / 2
    page.goto(f"{live_server.url}/datasets/{talks.pk}/")
    page.fill("input[name=score_min]", f"{threshold:.2f}")
    page.click("#clip-filter button[type=submit]")
    page.wait_for_url("**score_min=**")
    assert page.text_content("#clip-count").strip() == "2 clips"
    for role in ("audio", "blendshapes_qc", "audio_features", "quality_mask", "face", "metadata"):
        page.uncheck(f"#download-form input[value={role}]")  # keep the video and the blendshape CSV
    with page.expect_download() as info:
        page.click("#download")
    archive = zipfile.ZipFile(info.value.path())
    assert archive.testzip() is None
    manifest = list(csv.DictReader(io.StringIO(archive.read("talks/manifest.csv").decode())))
    expected = set(talks.clips.filter(quality_score__gte=float(f"{threshold:.2f}")).values_list("name", flat=True))
    assert {row["clip"] for row in manifest} == expected and len(expected) == 2
    assert all(float(row["quality_score"]) >= threshold for row in manifest)
    clip_files = sorted(n for n in archive.namelist() if n.count("/") == 3)
    assert clip_files == sorted(f"{row['folder']}/{path}" for row in manifest  # the make_dataset layout
                                for path in (f"clips/{row['clip']}.mp4", f"data/{row['clip']}_blendshapes.csv"))
    page.screenshot(path=str(ARTIFACTS / "filtered-before-download.png"), full_page=True)


def test_curve_pickers_show_what_is_chosen_and_head_pose_gets_its_own_axis(page, live_server, live_lab):
    """Issue #25 (7, 8): choices are checkboxes in groups with all/none, chosen ones are chips that remove them,
    and head pose (degrees) is drawn on its own axis beside the 0-1 coefficients."""
    clip = live_lab["talks"].clips.order_by("name").first()
    page.goto(f"{live_server.url}/clips/{clip.pk}/")
    page.wait_for_selector("#chart-controls[data-ready='1']")
    # issue #20 (5): the lip-sync curve of every offset searched, drawn with its null band
    page.wait_for_function("(document.getElementById('lip-sync-chart') || {}).data !== undefined")
    assert page.evaluate("document.getElementById('lip-sync-chart').data[2].x.length") == 51
    chips = page.locator("#curve-chips .chip").all_inner_texts()
    assert "jawOpen ×" in chips and "rms ×" in chips
    groups = page.locator("#curve-picker details.group summary").all_inner_texts()
    assert [g.split(" all")[0] for g in groups[:2]] == ["mouth and jaw", "eyes"]
    page.click("details[data-group='head pose (degrees)'] summary")
    page.check("input[name=curve][value=head_pitch]")
    page.wait_for_function("document.getElementById('curves-chart').data.some(t => t.name === 'head_pitch')")
    axes = page.evaluate("document.getElementById('curves-chart').data.map(t => [t.name, t.yaxis])")
    assert ["head_pitch", "y2"] in axes and ["jawOpen", "y"] in axes
    assert page.evaluate("document.getElementById('curves-chart').layout.yaxis2.title.text") == "head pose (°)"
    page.click("details[data-group='mouth and jaw'] button.group-none")
    page.wait_for_function("!document.getElementById('curves-chart').data.some(t => t.name === 'jawOpen')")
    assert "jawOpen ×" not in page.locator("#curve-chips .chip").all_inner_texts()
    page.click("#curve-chips .chip[data-name=head_pitch]")
    page.wait_for_function("!document.getElementById('curves-chart').data.some(t => t.name === 'head_pitch')")
    assert not page.is_checked("input[name=curve][value=head_pitch]")
    page.screenshot(path=str(ARTIFACTS / "clip-viewer-pickers.png"), full_page=True)


def test_a_report_draws_the_charts_near_the_screen_first_and_the_rest_as_they_come(page, live_server, live_lab):
    """Issue #25 (15): below-the-fold charts wait until they are scrolled near; plotly.js carries its version."""
    talks = live_lab["talks"]
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(f"{live_server.url}/datasets/{talks.pk}/report/")
    assert "plotly.min.js?v=" in page.content()
    charts = page.locator(".chart[data-figure]")
    first = charts.first.get_attribute("id")
    page.wait_for_selector(f"#{first}[data-ready='1']")
    last = charts.last.get_attribute("id")
    assert page.get_attribute(f"#{last}", "data-ready") is None, "a chart far below was drawn before it was near"
    page.locator(f"#{last}").scroll_into_view_if_needed()
    page.wait_for_selector(f"#{last}[data-ready='1']")
