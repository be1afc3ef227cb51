"""Issue #21: shot boundaries on decoded frames (pipeline.media.shots), on edits built from the shared
recordings: hard cuts and cross-fades between two speakers are found; a zoom and pan, a white flash and the
talking itself are not boundaries."""
from __future__ import annotations

import av
import numpy as np
import pytest

from pipeline.media.shots import find_boundaries, frame_signature, shots_between

FPS = 25


@pytest.fixture(scope="module")
def frames(media):
    cache = {}

    def get(name: str) -> list[np.ndarray]:
        if name not in cache:
            with av.open(str(media(name))) as container:
                cache[name] = [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
        return cache[name]

    return get


def fit(rgb: np.ndarray, shape) -> np.ndarray:
    ys = np.linspace(0, rgb.shape[0] - 1, shape[0]).astype(int)
    xs = np.linspace(0, rgb.shape[1] - 1, shape[1]).astype(int)
    return rgb[ys][:, xs]


def boundaries_of(pictures: list[np.ndarray]):
    return find_boundaries(np.stack([frame_signature(p) for p in pictures]), np.arange(len(pictures)) / FPS)


PAIRS = [("retalk_face1.mp4", "retalk_face2.mp4"), ("retalk_face2.mp4", "retalk_face3.mp4"),
         ("hdtf_WDA_AlexandriaOcasioCortez_000.mp4", "hdtf_WDA_KatieHill_000.mp4"),
         ("retalk_face3.mp4", "hdtf_WDA_AlexandriaOcasioCortez_000.mp4")]


@pytest.mark.parametrize("first, second", PAIRS)
def test_a_hard_cut_between_two_speakers_is_found_at_its_frame(frames, first, second):
    a = frames(first)[:60]
    b = [fit(p, a[0].shape) for p in frames(second)[:60]]
    found = boundaries_of(a + b)
    assert [(x.kind, x.first) for x in found] == [("cut", 60)]
    assert found[0].start_s == pytest.approx(60 / FPS)
    # one frame off is another answer: the test sees the frame
    assert found[0].first != 59 and found[0].first != 61


@pytest.mark.parametrize("first, second", PAIRS)
def test_a_one_second_cross_fade_is_one_boundary_covering_the_fade(frames, first, second):
    a = frames(first)[:85]
    b = [fit(p, a[0].shape) for p in frames(second)[:85]]
    fade = [(a[60 + k] * (1 - (k + 1) / 26) + b[k] * ((k + 1) / 26)).astype(np.uint8) for k in range(25)]
    found = boundaries_of(a[:60] + fade + b[25:85])
    assert len(found) == 1 and found[0].kind == "gradual"
    shots = shots_between(found, 0.0, 120 / FPS)
    assert len(shots) == 2
    assert shots[0][1] <= 60 / FPS + 1e-9 and shots[1][0] >= 85 / FPS - 1e-9  # no frame of the fade in a shot


@pytest.mark.parametrize("name", ["hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_AlexandriaOcasioCortez_000.mp4",
                                  "retalk_face2.mp4"])
def test_zoom_pan_flash_and_talking_are_no_boundary(frames, name):
    pictures = frames(name)
    h, w = pictures[0].shape[:2]
    n = len(pictures)
    assert boundaries_of(pictures) == []
    zoomed = []
    for k, p in enumerate(pictures):
        z = 1 + 0.4 * k / n
        ch, cw = int(h / z), int(w / z)
        y0, x0 = int((h - ch) * k / n), int((w - cw) * (1 - k / n))
        zoomed.append(fit(p[y0:y0 + ch, x0:x0 + cw], (h, w)))
    assert boundaries_of(zoomed) == []
    for width in (1, 2):  # a white flash of one or two frames
        flashed = list(pictures)
        flashed[n // 2: n // 2 + width] = [np.full_like(pictures[0], 255)] * width
        assert boundaries_of(flashed) == []


def online_cuts(pictures: list[np.ndarray]) -> tuple[set[int], int]:
    """The cuts CutWatch decides frame by frame, and the most frames it ever kept waiting."""
    from pipeline.media.shots import CutWatch

    watch, waited = CutWatch(FPS), 0
    for k, p in enumerate(pictures):
        watch.add(frame_signature(p))
        waited = max(waited, k + 1 - watch.decided())
    watch.end()
    return watch.cuts, waited


@pytest.mark.parametrize("first, second", PAIRS)
def test_cuts_decided_while_decoding_are_the_offline_passes_cuts(frames, first, second):
    """Issue #21: the clip worker starts a face track again at a cut it decides while decoding (CutWatch), a
    few frames behind; what it decides is what the whole span's pass finds, and a flash is no cut for either."""
    a = frames(first)[:60]
    b = [fit(p, a[0].shape) for p in frames(second)[:60]]
    white = np.full_like(a[0], 255)
    pictures = a[:30] + [white] + a[31:] + b  # a flash at 30, a cut at 60
    offline = {x.first for x in boundaries_of(pictures) if x.kind == "cut"}
    cuts, waited = online_cuts(pictures)
    assert offline == {60} and cuts == offline
    assert waited <= 10  # frames wait only behind a candidate, a few frames
    # a one-frame shift of the join moves the decision with it
    assert online_cuts(a[:59] + b)[0] == {59}


def test_talk3s_cut_is_decided_while_decoding(frames):
    pictures = frames("talk3.mp4")
    offline = {x.first for x in boundaries_of(pictures) if x.kind == "cut"}
    assert 184 in offline and online_cuts(pictures)[0] == offline
