"""Issue #22: the second attack's findings, each rebuilt here at run time and shown to fail without its fix."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings

from pipeline.errors import InputError
from pipeline.media import media_open
from testing.media_factory import write_av
from testing.support import REPO, assert_one_line_error
from testing.tus import client_for, upload_all

TS_PACKET = 188


def remux_ts(src: Path, dst: Path, seconds: float | None = None) -> Path:
    """``src`` as MPEG-TS (packet copy), optionally only its first ``seconds``."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mpegts") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in streams:
                continue
            if seconds is not None and packet.pts is not None and float(packet.pts * packet.time_base) > seconds:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


def playlist_polyglot(target: str, decoy_ts: bytes, live: bool = False) -> bytes:
    """The attack of finding 1: an HLS playlist naming ``target``, padded to a TS packet boundary, then a real
    MPEG-TS clip with audio as a decoy (it passes a check that lets FFmpeg guess the format).  ``live``: no
    #EXT-X-ENDLIST, the variant of finding 2 that hung a worker."""
    head = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{target}\n" + ("" if live else "#EXT-X-ENDLIST\n")
    raw = head.encode()
    raw += b"#" * ((TS_PACKET - (len(raw) + 1) % TS_PACKET) % TS_PACKET) + b"\n"
    assert len(raw) % TS_PACKET == 0
    return raw + decoy_ts


@pytest.fixture
def victim(tmp_path, media):
    """Another team's recording in its video folder, as MPEG-TS (FFmpeg followed .ts, .mkv and .mp4 alike)."""
    folder = Path(settings.DATA_DIR) / "videos" / "9"
    folder.mkdir(parents=True, exist_ok=True)
    return remux_ts(media("retalk_face2.mp4"), folder / "interview.ts")  # as the previous version stored it


@pytest.fixture
def decoy(tmp_path, media) -> bytes:
    return remux_ts(media("retalk_face1.mp4"), tmp_path / "decoy.ts", seconds=2.0).read_bytes()


def test_without_the_fix_ffmpeg_follows_the_playlist_into_the_other_folder(tmp_path, victim, decoy):
    """The attack as the report describes it, against bare FFmpeg: it is real, so the test below means something."""
    evil = tmp_path / "evil.m3u8"
    evil.write_bytes(playlist_polyglot(str(victim), decoy))
    with av.open(str(evil)) as container:
        assert container.format.name == "hls"
        assert container.duration / 1e6 > 4  # the other team's 5 s recording, not the 2 s decoy


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("absolute", [False, True])
def test_a_playlist_polyglot_upload_is_refused_and_reads_nothing(upload_lab, victim, decoy, live, absolute):
    target = str(victim) if absolute else "../9/interview.ts"
    data = playlist_polyglot(target, decoy, live=live)
    parts = set((Path(settings.DATA_DIR) / "uploads").glob("*.part"))  # other tests' unfinished uploads
    started = time.monotonic()
    response = upload_all(client_for("ana"), upload_lab["dataset"], data, "evil.m3u8")
    assert response.status_code == 422
    assert "an HLS playlist" in response.json()["error"] and "evil.m3u8" in response.json()["error"]
    assert time.monotonic() - started < 10, "the live playlist must not make anything wait"
    assert not upload_lab["dataset"].videos.exists()
    assert set((Path(settings.DATA_DIR) / "uploads").glob("*.part")) <= parts


@pytest.mark.parametrize("content", [
    b"\xef\xbb\xbf#EXTM3U\n../9/recording\n",  # with a byte-order mark
    b"  \n#extm3u\n../9/recording\n",  # after blank lines, lower case
    b"ffconcat version 1.0\nfile '../9/recording'\n",  # FFmpeg's concat script
    b"<?xml version='1.0'?><MPD><Period><AdaptationSet><Representation><BaseURL>../9/recording</BaseURL>"
    b"</Representation></AdaptationSet></Period></MPD>",  # DASH
])
def test_other_indirect_formats_are_refused_by_content_whatever_their_name(tmp_path, content):
    path = tmp_path / "talk.mp4"
    path.write_bytes(content + b"#" * 400)
    with pytest.raises(InputError, match="not a readable video file"):
        media_open.open_media(path)


def test_even_a_playlist_demuxer_forced_open_cannot_reach_a_second_file(tmp_path, victim, decoy):
    """The second lock: every open goes through a file handle with an io_open that refuses other files."""
    evil = tmp_path / "evil.m3u8"
    evil.write_bytes(playlist_polyglot(str(victim), decoy))
    with open(evil, "rb") as fh, pytest.raises(InputError, match="may not open other files"):
        media_open.open_forced(evil, fh, media_open.Container("hls", "HLS"))


@pytest.mark.parametrize("command", ["make_dataset", "extract"])
def test_the_commands_refuse_the_polyglot_too(tmp_path, victim, decoy, command):
    evil = tmp_path / "evil.m3u8"
    evil.write_bytes(playlist_polyglot(str(victim), decoy))
    out = ["-o", str(tmp_path / "out")] if command == "make_dataset" else ["--output", str(tmp_path / "out.csv")]
    proc = subprocess.run([sys.executable, "manage.py", command, *(["--no-progress", str(evil)] if command == "make_dataset" else ["--video", str(evil)]), *out], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert_one_line_error(proc, "evil.m3u8", "an HLS playlist")


def test_an_upload_is_stored_under_a_server_chosen_name_and_keeps_its_own_for_display(upload_lab, media):
    response = upload_all(client_for("ana"), upload_lab["dataset"], media("retalk_face1.mp4").read_bytes(), "interview.m3u8")
    assert response.status_code == 204, response.content
    video = upload_lab["dataset"].videos.get()
    assert Path(video.source_path).name == "recording" and video.source_name == "interview.m3u8"


def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    import os

    fifo = tmp_path / "talk.mp4"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        media_open.open_media(fifo)


# --- finding 5: sizes that cost gigabytes -----------------------------------------------------------------

def speech(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)


@pytest.mark.parametrize("size, fps, limit", [((4608, 256), 25, "4096 pixels a side"),
                                               ((3840, 2880), 25, "megapixels"),
                                               ((64, 48), 240, "120 fps")])
def test_oversized_videos_are_refused_naming_the_limit(upload_lab, tmp_path, size, fps, limit):
    path = write_av(tmp_path / "big.mp4", 0.4 if fps > 100 else 0.2, speech(1.0), fps=fps, size=size)
    response = upload_all(client_for("ana"), upload_lab["dataset"], path.read_bytes(), "big.mp4")
    assert response.status_code == 422 and limit in response.json()["error"]
    proc = subprocess.run([sys.executable, "manage.py", "make_dataset", "--no-progress", str(path), "-o",
                           str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert_one_line_error(proc, "big.mp4", limit)


def test_a_video_at_the_limit_is_accepted(upload_lab, tmp_path):
    path = write_av(tmp_path / "uhd.mp4", 0.2, speech(1.0), size=(3840, 2160))
    assert upload_all(client_for("ana"), upload_lab["dataset"], path.read_bytes(), "uhd.mp4").status_code == 204


# --- finding 2: hangs and cancels are supervised --------------------------------------------------------

class Blocking:
    """A file object whose reads block until released: FFmpeg waiting on storage that stopped answering."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position, self.release = data, 0, threading.Event()

    def read(self, n: int = -1) -> bytes:
        self.release.wait()
        chunk = self.data[self.position:self.position + (n if n >= 0 else len(self.data))]
        self.position += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: 0, 1: self.position, 2: len(self.data)}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.release.set()


def test_a_call_into_ffmpeg_that_never_returns_is_ended_as_a_hang(settings, media):
    from jobs.supervise import EXIT_HUNG, Supervisor

    settings.MEDIA_STALL_SECONDS = 1
    stuck = Blocking(media("retalk_face1.mp4").read_bytes())
    opener = threading.Thread(target=lambda: media_open.open_forced(Path("x.mp4"), stuck, media_open.CONTAINERS["mov"]),
                              daemon=True)
    hangs, exits = [], []
    with Supervisor(beat=lambda: True, on_hang=hangs.append, exit=exits.append):
        opener.start()
        deadline = time.monotonic() + 10
        while not exits and time.monotonic() < deadline:
            time.sleep(0.1)
    stuck.release.set()
    opener.join(10)
    assert exits == [EXIT_HUNG]
    assert len(hangs) == 1 and "no new packet from the recording for" in hangs[0]


def test_a_cancel_stops_a_decode_at_its_next_packet(settings, media):
    from jobs.supervise import Supervisor
    from pipeline.media.decode import VideoFrameReader

    settings.JOB_HEARTBEAT_SECONDS = 0.2
    current = threading.Event()
    current.set()
    decoded = []
    with Supervisor(beat=current.is_set, on_hang=lambda reason: None, exit=lambda code: None):
        with pytest.raises(media_open.WorkStopped):
            for frame in VideoFrameReader(media("talk3.mp4")):
                decoded.append(frame.index)
                if frame.index == 20:
                    current.clear()  # the user pressed cancel
                time.sleep(0.01)
    assert 20 < len(decoded) < 534, "the decode stopped soon after the cancel, before the end"


def test_work_stuck_after_a_cancel_ends_its_process(settings):
    from jobs.supervise import EXIT_STUCK_AFTER_CANCEL, Supervisor

    settings.JOB_HEARTBEAT_SECONDS, settings.CANCEL_GRACE_SECONDS = 0.2, 1
    exits = []
    with Supervisor(beat=lambda: False, on_hang=lambda reason: None, exit=exits.append):
        deadline = time.monotonic() + 5
        while not exits and time.monotonic() < deadline:
            time.sleep(0.1)  # "work" that never reads another packet
    assert exits and exits[0] == EXIT_STUCK_AFTER_CANCEL


# --- finding 4: score weights that overflow ---------------------------------------------------------------

@pytest.fixture
def catalog_lab(db, talk3_dataset):
    from testing.support import make_lab

    return make_lab(talk3_dataset)


def catalog_client(name: str):
    from django.test import Client

    from testing.support import CATALOG_PASSWORD, sign_in

    client = Client(raise_request_exception=False)
    assert sign_in(client, name, CATALOG_PASSWORD)
    return client


@pytest.mark.parametrize("weights", [{"valid_rate": "1e308", "tracking": "1e308"}, {"valid_rate": "1e308"},
                                     {"valid_rate": "101"}, {"valid_rate": "inf"}, {"valid_rate": "nan"}])
def test_score_weights_out_of_range_are_refused_and_change_nothing(catalog_lab, weights):
    from django.urls import reverse

    talks = catalog_lab["talks"]
    before = sorted(talks.clips.values_list("quality_score", flat=True))
    response = catalog_client("ana").post(reverse("dataset_scoring", args=[talks.pk]), weights)
    assert response.status_code == 400 and "100" in response.content.decode()
    talks.refresh_from_db()
    assert talks.score_weights == {} and sorted(talks.clips.values_list("quality_score", flat=True)) == before


def test_a_stored_weight_however_large_still_gives_finite_scores(catalog_lab, talk3_dataset):
    """A dataset saved by the previous version with 1e308 weights: re-scoring and importing keep working."""
    import math

    from catalog.importer import import_folder
    from catalog.rescore import rescore

    talks = catalog_lab["talks"]
    talks.score_weights = {"valid_rate": 1e308, "tracking": 1e308}
    talks.save()
    rescore(talks, talks.score_weights)
    import_folder(talks, talk3_dataset.root)
    scores = list(talks.clips.values_list("quality_score", flat=True))
    assert scores and all(math.isfinite(s) and 0 <= s <= 100 for s in scores)
    assert len(set(scores)) > 1, "the weights still rank the clips"


def test_a_failed_rescore_leaves_the_weights_as_they_were(catalog_lab, monkeypatch):
    from django.urls import reverse

    from dashboard import scoring as scoring_views

    def broken(dataset, weights):
        raise RuntimeError("the database went away mid-way")

    monkeypatch.setattr(scoring_views, "rescore", broken)
    talks = catalog_lab["talks"]
    response = catalog_client("ana").post(reverse("dataset_scoring", args=[talks.pk]), {"valid_rate": "3"})
    assert response.status_code == 500
    talks.refresh_from_db()
    assert talks.score_weights == {}, "the weights were saved without the scores they give"


# --- finding 6: a 500 on dataset creation ------------------------------------------------------------------

@pytest.mark.parametrize("team", ["abc", "1.5", "99999999999999999999999", "", "٣"])
def test_dataset_creation_with_a_bad_team_is_a_4xx(catalog_lab, team):
    from django.urls import reverse

    response = catalog_client("ana").post(reverse("dataset_create"), {"team": team, "name": "x"})
    assert 400 <= response.status_code < 500


# --- finding 7: refused uploads are limited and leave nothing ------------------------------------------------

def test_refused_uploads_leave_no_row_and_are_limited_per_hour(upload_lab, settings):
    from uploads.models import Upload, UploadRefusal
    from uploads.tus import expire_uploads

    settings.UPLOAD_MAX_REFUSED_PER_HOUR = 5
    ana = client_for("ana")
    parts = set((Path(settings.DATA_DIR) / "uploads").glob("*.part"))  # other tests' unfinished uploads
    for _ in range(5):
        assert upload_all(ana, upload_lab["dataset"], b"not a video\n" * 100, "notes.mp4").status_code == 422
    assert not Upload.objects.exists(), "a refused upload keeps its row"
    assert set((Path(settings.DATA_DIR) / "uploads").glob("*.part")) <= parts
    from testing.tus import create

    blocked = create(ana, upload_lab["dataset"], 1200, "notes.mp4")
    assert blocked.status_code == 429 and "refused in the last hour" in blocked.json()["error"]
    assert create(client_for("vic"), upload_lab["dataset"], 1200).status_code == 403  # (a viewer: not an upload quota)
    # an hour later the count is back to zero
    from datetime import timedelta

    from django.utils import timezone

    UploadRefusal.objects.update(created=timezone.now() - timedelta(hours=2))
    expire_uploads()
    assert not UploadRefusal.objects.exists()
    assert create(ana, upload_lab["dataset"], 1200, "notes.mp4").status_code == 201


def test_a_repeated_final_patch_does_not_check_and_hash_again(upload_lab, media, monkeypatch):
    from testing.tus import create, patch
    from uploads import tus as uploads

    data = media("retalk_face1.mp4").read_bytes()
    ana = client_for("ana")
    assert upload_all(ana, upload_lab["dataset"], data, "one.mp4").status_code == 204
    response = create(ana, upload_lab["dataset"], len(data), "two.mp4")
    url = response["Location"]
    assert patch(ana, url, 0, data).has_header("X-Keep-URL")  # the same file: waits for the user's choice
    calls = []
    monkeypatch.setattr(uploads, "check_upload", lambda *a: calls.append("check"))
    monkeypatch.setattr(uploads.upload_hash, "digest", lambda *a: calls.append("hash"))
    again = ana.generic("PATCH", url, b"", CONTENT_TYPE="application/offset+octet-stream",
                        HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_OFFSET=str(len(data)))
    assert again.status_code == 204 and again.has_header("X-Keep-URL") and calls == []


# --- finding 8: user strings in Plotly charts ------------------------------------------------------------

def test_a_source_name_with_html_is_shown_as_text_in_the_report_charts(catalog_lab):
    import json

    from django.urls import reverse

    talks = catalog_lab["talks"]
    evil = '<a href="https://evil.example/">phish</a>.mp4'
    talks.clips.update(source_name=evil)
    page = catalog_client("ana").get(reverse("dataset_report", args=[talks.pk])).content.decode()
    assert "evil.example" in page  # the name is there...
    figures = [json.loads(m) for m in re.findall(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', page, re.S)]
    texts = [t for f in figures if isinstance(f, dict) for trace in f.get("data", []) for t in trace.get("text", [])]
    assert any("phish" in t for t in texts), "the hover text names the clip"
    assert not any("<a " in t for t in texts), "...but never as markup Plotly would render"


def test_a_tus_chunk_cut_off_for_slowness_is_a_408_and_keeps_what_arrived(upload_lab, media, monkeypatch):
    """The server's paced body reads (finding 3) end a trickling chunk with TimeoutError: the client is told
    to resume (408, not a 5xx) and resumes from the bytes that did arrive."""
    from django.core.handlers.wsgi import WSGIRequest

    from testing.tus import create, patch

    data = media("retalk_face1.mp4").read_bytes()
    ana = client_for("ana")
    url = create(ana, upload_lab["dataset"], len(data), "slow.mp4")["Location"]
    reads = []

    def trickle(self, size=-1):
        reads.append(size)
        if len(reads) == 1:
            return data[:100_000]
        raise TimeoutError("the client sends its request body too slowly")

    monkeypatch.setattr(WSGIRequest, "read", trickle)
    response = patch(ana, url, 0, data)
    monkeypatch.undo()
    assert response.status_code == 408 and "resume" in response.json()["error"]
    head = ana.head(url, HTTP_TUS_RESUMABLE="1.0.0")
    assert head["Upload-Offset"] == "100000"
    assert patch(ana, url, 100_000, data[100_000:]).status_code == 204
