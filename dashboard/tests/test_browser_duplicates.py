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
