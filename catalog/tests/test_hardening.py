"""Holes an attack on a local copy found (issue #12), closed: files outside a dataset folder, a filter that
was not understood, database overflows from huge ids, spreadsheet formulas in the manifest."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from django.urls import reverse

from catalog.importer import import_folder
from catalog.models import Clip, Dataset, Tag
from pipeline.errors import InputError
from testing.support import fetch_zip, login


def crafted_copy(talk3_dataset, tmp_path, change) -> object:
    folder = tmp_path / "crafted"
    shutil.copytree(talk3_dataset.root, folder)
    lines = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    change(lines[0])
    (folder / "manifest.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "/etc/passwd", "data/../../outside.txt"])
def test_a_manifest_cannot_point_outside_its_folder(lab, talk3_dataset, tmp_path, path):
    (tmp_path / "outside.txt").write_text("secret")
    folder = crafted_copy(talk3_dataset, tmp_path, lambda line: line["files"]["audio"].update(path=path))
    dataset = Dataset.objects.create(team=lab["team_a"], name="crafted")
    with pytest.raises(InputError, match="line 1: a file path leads outside the dataset folder"):
        import_folder(dataset, folder)
    assert dataset.clips.count() == 0


def test_a_manifest_cannot_use_symbolic_links(lab, talk3_dataset, tmp_path):
    """Even a link that points inside today is refused: it could be re-pointed after the import."""
    def link_audio(line: dict) -> None:
        line["files"]["audio"]["path"] = line["files"]["audio"]["path"] + ".link"

    folder = crafted_copy(talk3_dataset, tmp_path, link_audio)
    first = json.loads((folder / "manifest.jsonl").read_text().splitlines()[0])
    target = folder / first["files"]["audio"]["path"]
    target.symlink_to(target.with_suffix(""))  # an existing file of the same clip
    dataset = Dataset.objects.create(team=lab["team_a"], name="linked")
    with pytest.raises(InputError, match="line 1: a file path leads outside the dataset folder"):
        import_folder(dataset, folder)
    assert dataset.clips.count() == 0


def test_a_clip_name_cannot_climb_out(lab, talk3_dataset, tmp_path):
    folder = crafted_copy(talk3_dataset, tmp_path, lambda line: line.update(clip="../../db"))
    dataset = Dataset.objects.create(team=lab["team_a"], name="crafted")
    with pytest.raises(InputError, match="is not a clip name"):
        import_folder(dataset, folder)


def test_a_row_pointing_outside_is_never_served(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    files = dict(clip.files)
    files["audio"] = {**files["audio"], "path": "../../../../etc/passwd"}
    Clip.objects.filter(pk=clip.pk).update(files=files)
    login(client, "vic")
    assert client.get(reverse("clip_file", args=[clip.pk, "audio"])).status_code == 404
    archive = fetch_zip(client.get(reverse("dataset_download", args=[lab["talks"].pk]), {"files": "audio"}))
    assert not any(name.endswith("passwd") for name in archive.namelist())
    selection = json.loads(archive.read("talks/selection.json"))
    assert any(missing.endswith("/audio") for missing in selection["missing_files"])


def test_a_filter_that_is_not_understood_downloads_nothing(client, lab):
    login(client, "vic")
    url = reverse("dataset_download", args=[lab["talks"].pk])
    response = client.get(url, {"score_min": "95", "tag": "x" * 61})
    assert response.status_code == 400 and "not understood" in response.content.decode()
    assert client.get(url, {"video": "9" * 30}).status_code == 400
    unknown_files = client.get(url, {"files": "video,passwords"})
    assert unknown_files.status_code == 400 and "passwords" in unknown_files.content.decode()
    table = client.get(reverse("dataset_detail", args=[lab["talks"].pk]), {"video": "9" * 30})
    html = table.content.decode()
    assert table.status_code == 400 and 'id="filter-errors"' in html  # said, with the table empty (not a 500)
    assert 'id="clip-count">0 clips' in html


def test_tags_cannot_become_spreadsheet_formulas(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    clip.tags.add(Tag.objects.create(dataset=lab["talks"], name='=HYPERLINK("http://evil")'))
    login(client, "vic")
    archive = fetch_zip(client.get(reverse("dataset_download", args=[lab["talks"].pk]), {"files": "metadata"}))
    rows = list(csv.DictReader(io.StringIO(archive.read("talks/manifest.csv").decode())))
    tagged = next(r for r in rows if r["clip"] == clip.name)
    assert tagged["tags"].startswith("'=")


@pytest.mark.parametrize("values", [{"min_clip": "nan"}, {"max_gap": "inf"}, {"min_clip": "0"}, {"min_clip": "0.2"},
                                    {"max_clip": "100000"}, {"max_gap": "-1"}, {"max_interp_gap": "60"}])
def test_upload_settings_that_would_fail_later_are_refused_now(values):
    from uploads.tus import parse_params

    with pytest.raises(ValueError):
        parse_params(values)


def test_an_absurd_range_header_is_ignored_not_a_500(client, lab):
    clip = lab["talks"].clips.order_by("name").first()
    login(client, "vic")
    url = reverse("clip_file", args=[clip.pk, "video"])
    response = client.get(url, HTTP_RANGE="bytes=" + "9" * 5000 + "-")
    assert response.status_code == 200
    assert client.get(url, HTTP_RANGE="bytes=0-9").status_code == 206


def test_clip_processes_exit_when_their_worker_is_killed():
    """kill -9 of the process running a video job must not leave its clip processes (300 MB each) behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from testing.support import REPO

    script = ("import os, time\n"
              "from pipeline.dataset.build import clip_pool\n"
              "pool = clip_pool(2)\n"
              "futures = [pool.submit(time.sleep, 120) for _ in range(2)]\n"
              "time.sleep(3)\n"
              "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
              "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    children = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(children) == 2

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().split()[2] != "Z"
        except FileNotFoundError:
            return False

    assert all(alive(pid) for pid in children)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    leftover = [pid for pid in children if alive(pid)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert not leftover, "clip processes outlived their parent"


def test_first_thumbnail_requests_in_parallel_all_succeed(lab):
    """Threads of one server process asking for the same new thumbnail must not share a temporary file."""
    import threading

    from catalog.models import Clip
    from catalog.thumbnails import make_thumbnail, thumbnail_path

    clip = Clip.objects.order_by("pk").first()
    thumbnail_path(clip).unlink(missing_ok=True)
    results, barrier = [], threading.Barrier(16)

    def ask(own: Clip) -> None:  # each request has its own row object, as in the view
        barrier.wait()
        results.append(make_thumbnail(own))

    threads = [threading.Thread(target=ask, args=(Clip.objects.select_related("video").get(pk=clip.pk),))
               for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 16 and all(result == thumbnail_path(clip) for result in results)
    assert thumbnail_path(clip).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert not list(thumbnail_path(clip).parent.glob(".*.partial"))


def test_server_paths_are_shown_to_staff_only(client, lab, settings):
    from django.contrib.auth import get_user_model

    from catalog.models import Video
    from dashboard.videos import video_status_data

    video = Video.objects.first()
    folder = f"{settings.DATA_DIR}/videos/{video.pk}"
    Video.objects.filter(pk=video.pk).update(error=f"{folder}/talk3.mp4: the file is truncated (/srv/raw/x.mp4)")
    video.refresh_from_db()
    member = lab["users"]["vic"]
    seen = video_status_data(video, member)["error"]
    assert seen == f"DATA_DIR/videos/{video.pk}/talk3.mp4: the file is truncated (x.mp4)"
    assert str(settings.DATA_DIR) not in seen and "/srv/raw" not in seen
    staff = get_user_model().objects.create_user("it", password="a-long-test-password", is_staff=True)
    assert video_status_data(video, staff)["error"] == video.error
    login(client, "vic")
    page = client.get(reverse("video_detail", args=[video.pk])).content.decode()
    assert "the file is truncated" in page and str(settings.DATA_DIR) not in page
