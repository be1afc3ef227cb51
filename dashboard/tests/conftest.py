"""The browser tests' shared fixtures: one headless Chromium per module, a fresh page, a lab for the live server."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Membership, Role, Team
from catalog.models import Dataset
from testing.browser import ARTIFACTS, CHROMIUM
from testing.support import CATALOG_PASSWORD


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test's thread: the test's own ORM calls are still sync
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `bash scripts/test` installs it (Debian chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so a page fixture knows at teardown whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def screenshot_if_failed(request, page) -> None:
    """A browser test that failed leaves a screenshot of its page in test-artifacts/ (named after the test)."""
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)


@pytest.fixture
def page(browser, request):
    """A fresh page (its own context), closed after the test so nothing keeps polling the live server."""
    page = browser.new_page()
    yield page
    screenshot_if_failed(request, page)
    page.context.close()


@pytest.fixture
def browser_lab(transactional_db):
    """'ana', member of Lab A, with an empty dataset 'talks', committed for the live server."""
    user = get_user_model().objects.create_user("ana", password=CATALOG_PASSWORD)
    team = Team.objects.create(name="Lab A")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return Dataset.objects.create(team=team, name="talks")
