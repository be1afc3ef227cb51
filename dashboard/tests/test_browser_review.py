"""Reviewing in real Chromium: 20 clips by keyboard alone, a batch tag of a filtered view, a frozen selection."""
from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest

from catalog.importer import import_folder
from catalog.models import Clip
from exports.models import Selection
from testing.browser import ARTIFACTS, logged_in_page

pytestmark = pytest.mark.slow


@pytest.fixture
def many_clips(live_lab, talk3_dataset, tmp_path):
    """talk3's three clips imported as seven recordings: 21 clips."""
    for n in range(6):
        folder = tmp_path / f"copy{n}"
        shutil.copytree(talk3_dataset.root, folder)
        manifest = folder / "manifest.jsonl"
        lines = [{**json.loads(line), "source": f"talk3_copy{n}.mp4"} for line in manifest.read_text().splitlines()]
        manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
        import_folder(live_lab["talks"], folder)
    return live_lab


@pytest.fixture
def page(browser, live_server, many_clips):  # noqa: F811
    page = logged_in_page(browser, live_server)
    yield page
    page.context.close()


def test_review_twenty_clips_by_keyboard_alone(page, live_server, many_clips):
    talks = many_clips["talks"]
    order = list(talks.clips.order_by("name", "id").values_list("pk", flat=True))
    assert len(order) == 21
    page.goto(f"{live_server.url}/datasets/{talks.pk}/?sort=name")
    page.click("#clips tbody tr:first-child a.clip-link")
    seen = []
    for i in range(20):
        page.wait_for_selector("body[data-viewer-ready]")  # its script has run: the keys are live
        seen.append(int(page.url.split("/clips/")[1].split("/")[0]))
        page.keyboard.press("t")
        page.keyboard.type("seen")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('clip-tags').dataset.count === '1'")
        if i % 2 == 0:
            page.keyboard.press("r")
            page.wait_for_selector("#rejected-flag:not([hidden])")
        if i == 5:
            page.screenshot(path=str(ARTIFACTS / "review-by-keyboard.png"), full_page=True)
        with page.expect_navigation():
            page.keyboard.press("n")
    assert seen == order[:20]  # the table's order, one clip after the other
    assert Clip.objects.filter(tags__name="seen").count() == 20
    assert list(talks.clips.filter(rejected=True).order_by("name", "id").values_list("pk", flat=True)) == order[:20:2]


def test_batch_tag_a_filtered_view_then_freeze_it_and_download_the_same_manifest(page, live_server, many_clips):
    talks = many_clips["talks"]
    page.goto(f"{live_server.url}/datasets/{talks.pk}/?q=copy1")
    assert page.inner_text("#clip-count") == "3 clips"
    page.select_option("#batch-action", "tag")
    page.fill("#batch-tag", "pilot")
    page.once("dialog", lambda dialog: (dialog.message.endswith("all 3 clips of this view?") or
                                        pytest.fail(dialog.message), dialog.accept()))
    page.click("#batch-apply")
    page.wait_for_selector("text=3 of 3 clips tagged")
    assert Clip.objects.filter(tags__name="pilot", source_name="talk3_copy1.mp4").count() == 3

    page.fill("#save-selection input[name=selection_name]", "pilot set")
    page.click("#save-selection-button")
    page.wait_for_selector("#manifest-sha256")
    selection = Selection.objects.get()
    assert page.inner_text("#manifest-sha256") == selection.manifest_sha256
    first = Clip.objects.filter(source_name="talk3_copy1.mp4").order_by("name").first()
    Clip.objects.filter(pk=first.pk).update(rejected=True)  # curation goes on after the paper's snapshot
    with page.expect_download() as info:
        page.click("#selection-download")
    archive = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))
    manifest = archive.read(next(n for n in archive.namelist() if n.endswith("manifest.json")))
    assert manifest == selection.manifest.encode() and len(json.loads(manifest)["clips"]) == 3
    page.screenshot(path=str(ARTIFACTS / "selection.png"), full_page=True)


def test_the_dataset_page_keeps_checkboxes_by_their_labels_and_makes_the_user_choose_a_batch_action(
        page, live_server, many_clips):
    """Issue #25 (9, 13): a file checkbox sits beside its label, no select cuts its own text, and the batch
    action starts unchosen (Apply without choosing sends nothing)."""
    talks = many_clips["talks"]
    page.goto(f"{live_server.url}/datasets/{talks.pk}/")
    boxes = page.eval_on_selector_all("#download-form label.check input",
                                      "els => els.map(el => el.getBoundingClientRect().width)")
    assert boxes and max(boxes) < 30, boxes  # a checkbox's own width, so its label follows it
    cut = page.eval_on_selector_all("form.filters select", """els => els.filter(s => {
        const span = document.createElement('span');
        span.style.font = getComputedStyle(s).font;
        span.style.whiteSpace = 'pre';
        span.textContent = s.selectedOptions.length ? s.selectedOptions[0].text : '';
        document.body.appendChild(span);
        const needed = span.getBoundingClientRect().width + 16;  // the text and the arrow
        span.remove();
        return needed > s.clientWidth; }).map(s => s.name)""")
    assert cut == [], cut
    # the upload form's fields line up: the inputs of one row start at one height
    tops = page.eval_on_selector_all("#upload-params label > input, #upload-params label > select",
                                     "els => els.map(e => [Math.round(e.getBoundingClientRect().top), e.name])")
    rows = {}
    for top, name in tops:
        rows.setdefault(min((t for t in rows if abs(t - top) < 40), default=top), []).append((top, name))
    assert all(len({t for t, _ in row}) == 1 for row in rows.values()), tops
    assert page.eval_on_selector("#batch-action", "el => el.value") == ""
    page.click("#batch-apply")  # the browser refuses the form: no dialog, no post
    assert page.url.endswith(f"/datasets/{talks.pk}/") and not Clip.objects.filter(rejected=True).exists()
