"""The same recording uploaded twice, in real Chromium: the page says where it already is; skip or keep both."""
from __future__ import annotations

import pytest

from catalog.models import Video
from testing.browser import ARTIFACTS, log_in
from uploads.models import Upload

pytestmark = pytest.mark.slow


def test_a_duplicate_upload_asks_and_the_user_skips_then_keeps(page, live_server, browser_lab, media):  # noqa: F811
    log_in(page, live_server)
    page.click("text=talks")
    source = str(media("retalk_face1.mp4"))
    page.set_input_files("#upload-input", source)
    page.wait_for_selector(".upload-row.done a", timeout=120_000)
    assert Video.objects.count() == 1

    page.reload()
    page.set_input_files("#upload-input", source)
    page.wait_for_selector(".upload-row.duplicate", timeout=120_000)
    text = page.inner_text(".upload-row.duplicate .state")
    assert text.startswith("already in this dataset: retalk_face1.mp4, uploaded by ana on ")
    page.screenshot(path=str(ARTIFACTS / "upload-duplicate.png"), full_page=True)
    page.click(".upload-row.duplicate button.skip")
    page.wait_for_selector("text=skipped: not uploaded twice")
    assert Video.objects.count() == 1 and not Upload.objects.filter(video__isnull=True).exists()

    page.reload()
    page.set_input_files("#upload-input", source)
    page.wait_for_selector(".upload-row.duplicate", timeout=120_000)
    page.click(".upload-row.duplicate button.keep")
    page.wait_for_selector(".upload-row.done a")
    assert Video.objects.count() == 2


def test_a_file_refused_for_its_settings_can_be_chosen_again(page, live_server, browser_lab, media):
    """Issue #25 (2): min_clip 0.5 is refused; with min_clip 2 the same file, chosen again, goes up, and the
    old error row goes with the new try (the input is emptied, so the browser reports the same file again)."""
    log_in(page, live_server)
    page.click("text=talks")
    source = str(media("retalk_face1.mp4"))
    page.fill("#upload-params input[name=min_clip]", "0.5")
    page.set_input_files("#upload-input", source)
    page.wait_for_selector(".upload-row.failed", timeout=60_000)
    assert "min_clip" in page.inner_text(".upload-row.failed .state")
    assert page.eval_on_selector("#upload-input", "el => el.value") == ""
    page.fill("#upload-params input[name=min_clip]", "2")
    page.set_input_files("#upload-input", source)
    page.wait_for_selector(".upload-row.done a", timeout=120_000)
    assert page.locator(".upload-row").count() == 1 and Video.objects.count() == 1
