"""Headless Chromium for tests: where it is, where screenshots go, logging in."""
from __future__ import annotations

import shutil

from testing.support import CATALOG_PASSWORD, REPO
from testing.support import CATALOG_PASSWORD as PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


ARTIFACTS = REPO / "test-artifacts"


def log_in(page, live_server):
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#datasets")


def logged_in_page(browser, live_server):
    """A wide page with downloads allowed, logged in as the lab's member 'ana'."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", CATALOG_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#datasets")
    return page
