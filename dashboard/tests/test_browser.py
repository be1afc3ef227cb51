"""The dashboard in real headless Chromium: log in, upload, watch the job finish with a real worker, filter, resume."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from catalog.models import Video
from testing.browser import ARTIFACTS, log_in
from testing.workers import start_worker, stop_worker
from uploads.models import Upload

PASSWORD = "a-long-test-password"
pytestmark = pytest.mark.slow


def wait_until(page, predicate, seconds: float = 240):
    """Poll while letting Playwright dispatch events (route handlers run only inside its calls)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(200)
    raise AssertionError("timed out")


def test_upload_watch_progress_and_filter(page, live_server, browser_lab, media):
    log_in(page, live_server)
    page.screenshot(path=str(ARTIFACTS / "datasets.png"), full_page=True)
    page.click("text=talks")
    page.fill("#upload-params input[name=max_gap]", "1.5")
    page.fill("#upload-params input[name=min_clip]", "2")
    worker = start_worker()
    try:
        page.set_input_files("#upload-input", str(media("talk3.mp4")))
        page.wait_for_selector(".upload-row.done a", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "upload-done.png"), full_page=True)
        page.click(".upload-row.done a")
        page.wait_for_selector("#job-status")
        page.wait_for_function("['Running', 'Done'].includes(document.getElementById('job-status').textContent)",
                               timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "job-running.png"), full_page=True)
        page.wait_for_function("document.getElementById('job-status').textContent === 'Done'", timeout=240_000)
        assert page.inner_text("#job-clips") == "3 / 3 clips"
        assert page.inner_text("#job-stage") == ""  # "Done", not "Done done"
        assert not page.is_visible("#cancel") and not page.is_visible("#retry")  # no controls a done job cannot use
        page.screenshot(path=str(ARTIFACTS / "job-done.png"), full_page=True)
    finally:
        stop_worker(worker)
    page.click("text=talks")
    assert page.inner_text("#clip-count") == "3 clips"
    page.wait_for_function("Array.from(document.querySelectorAll('#clips img')).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(ARTIFACTS / "catalog.png"), full_page=True)
    scores = sorted(float(s) for s in page.locator("#clips td.score").all_inner_texts())
    page.fill("input[name=score_min]", f"{(scores[0] + scores[1]) / 2:.2f}")
    page.click("#clip-filter button[type=submit]")
    page.wait_for_url("**score_min=**")
    assert page.inner_text("#clip-count") == "2 clips"
    assert len(page.locator("#clips tbody tr").all()) == 2
    page.screenshot(path=str(ARTIFACTS / "catalog-filtered.png"), full_page=True)


def test_upload_resumes_after_reload(page, live_server, browser_lab, media, settings):
    settings.UPLOAD_CHUNK_BYTES = 128 * 1024
    data = media("talk3.mp4")
    log_in(page, live_server)
    page.click("text=talks")
    patches = {"n": 0}

    def cut_after_three(route):
        patches["n"] += 1
        if patches["n"] <= 3:
            route.continue_()
        else:
            route.abort("connectionreset")  # the network goes away mid-file

    log: list[str] = []  # what the page did, written next to the screenshots if the test fails
    page.on("console", lambda m: log.append(f"{time.monotonic():.2f} console {m.type}: {m.text}"))
    page.on("requestfailed", lambda r: log.append(f"{time.monotonic():.2f} failed {r.method} {r.url} {r.failure}"))
    page.on("response", lambda r: log.append(f"{time.monotonic():.2f} {r.request.method} {r.url} -> {r.status}"))
    try:
        _resume_after_reload(page, data, patches, cut_after_three, log)
    except BaseException:
        rows = list(Upload.objects.values("offset", "length", "error", "video_id"))
        (ARTIFACTS / "upload-resume-failure.log").write_text("\n".join([f"uploads: {rows}", *log]))
        page.screenshot(path=str(ARTIFACTS / "upload-resume-failure.png"), full_page=True)
        raise


def _resume_after_reload(page, data, patches, cut_after_three, log) -> None:
    resource = re.compile(r".*/uploads/[0-9a-f-]{36}/$")
    page.route(resource, lambda route: cut_after_three(route) if route.request.method == "PATCH" else route.continue_())
    page.set_input_files("#upload-input", str(data))
    wait_until(page, lambda: patches["n"] > 3, 120)
    assert Upload.objects.get().offset == 3 * 128 * 1024  # three chunks arrived, then the connection broke
    page.reload()  # first stop the old page's retry loop, then let the network back
    page.unroute(resource)
    log.append(f"{time.monotonic():.2f} reloaded, network back")
    page.set_input_files("#upload-input", str(data))  # the user picks the same file again
    page.wait_for_selector(".upload-row.done, .upload-row.failed", timeout=120_000)
    assert page.locator(".upload-row.done").count() == 1, page.inner_text("#upload-list")
    assert Upload.objects.count() == 1, "the upload must resume, not start over"
    video = Video.objects.get()
    assert Path(video.source_path).read_bytes() == data.read_bytes()
    page.screenshot(path=str(ARTIFACTS / "upload-resumed.png"), full_page=True)


def test_file_chosen_before_the_script_ran_still_uploads(page, live_server, browser_lab, media):
    """A file picked while upload.js was still loading (slow network) fired its change event with nobody
    listening; the script starts it when it arrives. (This race made the resume test flaky.)"""
    log_in(page, live_server)
    page.route("**/static/js/upload.js", lambda route: route.abort())
    page.click("text=talks")
    page.wait_for_load_state("load")
    page.set_input_files("#upload-input", str(media("talk3.mp4")))  # nobody listens yet
    page.unroute("**/static/js/upload.js")
    page.add_script_tag(url="/static/js/upload.js")
    page.wait_for_selector(".upload-row.done", timeout=120_000)
    assert Upload.objects.count() == 1 and Video.objects.count() == 1


def test_zero_clips_says_why_and_reprocess_from_the_page_gets_clips(page, browser, live_server, browser_lab, media):
    """A new user's first upload with the default min_clip of 20 s: the page says why there are no clips and
    fixes it in one click."""
    log_in(page, live_server)
    page.click("text=talks")
    worker = start_worker()
    try:
        page.set_input_files("#upload-input", str(media("retalk_face2.mp4")))  # 5 s of speech
        page.wait_for_selector(".upload-row.done a", timeout=120_000)
        # issue #25 (1): the list picks up the upload made from this page and follows its job without a reload,
        # and says why once it is done
        page.wait_for_selector("#videos li[data-video] .pill", timeout=30_000)
        assert "none yet" not in page.inner_text("#videos")
        page.wait_for_selector("#videos li .why", timeout=240_000)
        assert "No clip was kept" in page.inner_text("#videos li .why")
        assert page.is_hidden("#new-clips"), "no clip came: nothing to refresh"
        page.click("#videos li a")
        page.wait_for_function("document.getElementById('job-status').textContent === 'Done'", timeout=240_000)
        page.wait_for_selector("#why:not([hidden])")
        sentence = page.inner_text("#why-sentence")
        assert sentence.startswith("No clip was kept: 1 speech run of") and "shorter than min_clip 20 s" in sentence
        page.screenshot(path=str(ARTIFACTS / "job-zero-clips-why.png"), full_page=True)
        button = page.inner_text("#reprocess-suggested")
        assert re.fullmatch(r"Reprocess with min_clip \d+ s", button)
        page.click("#reprocess-suggested")
        # issue #25 (1): a dataset page drawn while the job runs offers to refresh its table when the clip comes
        table = browser.new_context().new_page()
        log_in(table, live_server)
        table.goto(f"{live_server.url}/datasets/{browser_lab.pk}/")
        assert table.inner_text("#clip-count") == "0 clips"
        table.wait_for_selector("#new-clips:not([hidden])", timeout=240_000)
        assert table.inner_text("#new-clips .what") == "1 new clip since this table was drawn."
        table.click("#new-clips a")
        table.wait_for_function("document.getElementById('clip-count').textContent.trim() === '1 clip'")
        table.context.close()
        page.wait_for_function("document.getElementById('job-status').textContent === 'Done'", timeout=240_000)
        page.wait_for_function("document.getElementById('why').hidden")
        assert page.inner_text("#job-clips") == "1 / 1 clip"
    finally:
        stop_worker(worker)
    page.click("text=talks")
    assert page.inner_text("#clip-count") == "1 clip"
