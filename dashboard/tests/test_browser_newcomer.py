"""Issue #25 (the check): a newcomer's first hour in real Chromium, end to end, without a reload where none is
needed: upload two recordings from the dataset page, watch both finish in the list, refresh the table when it
offers, open a clip and change its curves, read the report, freeze a selection, download both zips and find
one layout.  A failure leaves a screenshot in test-artifacts/ (dashboard/tests/conftest.py)."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from catalog.models import Video
from testing.browser import ARTIFACTS, log_in
from testing.workers import start_worker, stop_worker

pytestmark = pytest.mark.slow


def zip_of(page, click: str) -> zipfile.ZipFile:
    with page.expect_download() as info:
        page.click(click)
    return zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))


def layout(archive: zipfile.ZipFile) -> set[str]:
    """Every clip file's path below the zip's top folder (video folder / clips or data / file)."""
    return {name.split("/", 1)[1] for name in archive.namelist() if name.count("/") == 3}


def test_a_newcomers_first_hour(page, live_server, browser_lab, media):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server)
    page.click("text=talks")
    assert "none yet" in page.inner_text("#videos")
    page.fill("#upload-params input[name=min_clip]", "2")
    worker = start_worker()
    try:
        page.set_input_files("#upload-input", [str(media("retalk_face1.mp4")), str(media("retalk_face2.mp4"))])
        page.wait_for_function("document.querySelectorAll('.upload-row.done').length === 2", timeout=120_000)
        # the list picks both up and follows them to the end, on this page
        page.wait_for_function("document.querySelectorAll('#videos li[data-video]').length === 2", timeout=30_000)
        page.wait_for_function("[...document.querySelectorAll('#videos li[data-video]')]"
                               ".every(li => li.dataset.status === 'done')", timeout=300_000)
    finally:
        stop_worker(worker)
    assert Video.objects.filter(status=Video.Status.DONE).count() == 2
    page.wait_for_selector("#new-clips:not([hidden])", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "newcomer-videos-done.png"), full_page=True)
    page.click("#new-clips a")
    page.wait_for_selector("#clips tbody tr")
    clips = browser_lab.clips.count()
    assert clips >= 2 and page.inner_text("#clip-count") == f"{clips} clips"

    page.click("#clips tbody tr:first-child a.clip-link")
    page.wait_for_selector("#chart-controls[data-ready='1']")
    page.check("input[name=curve][value=mouthRollLower]")
    page.wait_for_function("document.getElementById('curves-chart').data.some(t => t.name === 'mouthRollLower')")
    page.screenshot(path=str(ARTIFACTS / "newcomer-viewer.png"), full_page=True)

    page.goto(f"{live_server.url}/datasets/{browser_lab.pk}/report/")
    page.wait_for_selector(".chart[data-figure][data-ready='1']")
    assert page.text_content("#report-clips") == str(clips)

    page.goto(f"{live_server.url}/datasets/{browser_lab.pk}/")
    filtered = zip_of(page, "#download")
    page.fill("#save-selection input[name=selection_name]", "first hour")
    page.click("#save-selection-button")
    page.wait_for_selector("text=manifest sha256")
    frozen = zip_of(page, "#selection-download")
    assert layout(filtered) == layout(frozen) and len(layout(filtered)) == 8 * clips
    top = frozen.namelist()[0].split("/")[0]
    folders = json.loads(frozen.read(f"{top}/selection.json"))["folders"]
    for entry in json.loads(frozen.read(f"{top}/manifest.json"))["clips"]:
        for f in entry["files"].values():  # the frozen paths are paths inside the video's folder
            assert f"{top}/{folders[str(entry['video_id'])]}/{f['path']}" in frozen.namelist()
    page.screenshot(path=str(ARTIFACTS / "newcomer-selection.png"), full_page=True)
