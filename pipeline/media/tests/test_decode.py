"""Decoding: frame counts by decoding, PTS times, contiguous RGB, rotation, truncation."""
from __future__ import annotations

import av
import numpy as np
import pytest

from pipeline.media.decode import VideoFrameReader
from pipeline.media.prefetch import prefetch
from pipeline.media.probe import probe
from testing.media_factory import remux, set_display_rotation, truncate, write_video

ALL_MEDIA = [
    ("pyfeat_WolfgangLanger_Pexels.mp4", 472),
    ("pyfeat_single_face.mp4", 72),
    ("pyfeat_no_face.mp4", 95),
    ("pyfeat_face_noface.mov", 169),
    ("pyfeat_noface_face.mov", 169),
    ("retalk_face1.mp4", 135),
    ("retalk_face2.mp4", 125),
    ("retalk_face3.mp4", 125),
    ("talk3.mp4", 534),
]


def pyav_times(path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


@pytest.mark.parametrize("name,frames", ALL_MEDIA)
def test_frame_count_and_times_match_pyav(media, name, frames):
    path = media(name)
    reader = VideoFrameReader(path)
    decoded = list(reader)
    assert len(decoded) == frames
    assert [f.index for f in decoded] == list(range(frames))
    assert [f.time_s for f in decoded] == pytest.approx(pyav_times(path), abs=1e-9)
    assert reader.problem is None
    times = np.array([f.time_s for f in decoded])
    assert np.all(np.diff(times) > 0), "presentation times must strictly increase"


def test_header_frame_count_is_not_trusted(media):
    info = probe(media("pyfeat_no_face.mp4"))
    assert info.header_frames == 98
    assert sum(1 for _ in VideoFrameReader(media("pyfeat_no_face.mp4"))) == 95


@pytest.mark.parametrize("name,width", [("retalk_face1.mp4", 700), ("retalk_face3.mp4", 590), ("retalk_face2.mp4", 844)])
def test_rgb_rows_are_contiguous_for_padded_widths(media, name, width):
    frame = next(iter(VideoFrameReader(media(name))))
    assert frame.rgb.shape == (width, width, 3)
    assert frame.rgb.dtype == np.uint8
    assert frame.rgb.flags["C_CONTIGUOUS"]
    assert frame.rgb.strides == (width * 3, 3, 1)


def test_variable_frame_rate_times_come_from_pts(tmp_path):
    pts_ms = [0, 33, 50, 120, 130, 300, 333, 500, 740, 741]
    frames = [np.full((48, 64, 3), i * 20, np.uint8) for i in range(len(pts_ms))]
    path = write_video(tmp_path / "vfr.mp4", frames, pts_ms)
    decoded = list(VideoFrameReader(path))
    assert len(decoded) == len(pts_ms)
    assert [round(f.time_s * 1000) for f in decoded] == pts_ms
    # index/fps would put frame 5 at 5/30 s = 167 ms: PTS says 300 ms
    assert decoded[5].time_s == pytest.approx(0.300, abs=1e-6)


def test_display_rotation_makes_frames_upright(tmp_path):
    picture = np.zeros((32, 64, 3), np.uint8)
    picture[:, :32] = 255  # left half white, as stored
    path = write_video(tmp_path / "landscape.mp4", [picture] * 3, [0, 40, 80])
    set_display_rotation(path)
    info = probe(path)
    assert info.rotation == -90
    assert (info.width, info.height) == (32, 64)
    frame = next(iter(VideoFrameReader(path)))
    assert frame.rgb.shape == (64, 32, 3)
    assert frame.rgb.flags["C_CONTIGUOUS"]
    # turned 90 degrees clockwise for display: the stored left half is now on top
    assert frame.rgb[:28, :, 0].mean() > 200
    assert frame.rgb[36:, :, 0].mean() < 50


def test_truncated_file_reports_where_decoding_stopped(media, tmp_path):
    whole = remux(media("retalk_face1.mp4"), tmp_path / "faststart.mp4")
    cut = truncate(whole, tmp_path / "cut.mp4", 0.6)
    reader = VideoFrameReader(cut)
    frames = list(reader)
    assert 40 < len(frames) < 135
    assert reader.problem is not None
    assert reader.problem.time_s == pytest.approx(frames[-1].time_s, abs=0.2)


def test_prefetch_keeps_order_and_passes_errors():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))

    def broken():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(prefetch(broken()))


def test_prefetch_consumer_can_stop_early():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    stream = prefetch(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    count = len(produced)
    assert count < 10, "the producer must stop when the consumer goes away"
