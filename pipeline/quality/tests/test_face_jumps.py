"""Issue #21: a jump of the face within a shot (another person, or the tracker sliding to another face) is flagged
with its time; a real talking head moving is not."""
from __future__ import annotations

import numpy as np

from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.quality.quality import QualityInputs, face_jumps
from pipeline.quality.scoring import reasons


def inputs(recording, name: str) -> QualityInputs:
    from pipeline.face.landmarks import FaceLandmarkTracker
    from pipeline.face.extract import track_frames
    from pipeline.media.decode import VideoFrameReader

    with FaceLandmarkTracker() as tracker:
        records = list(track_frames(VideoFrameReader(recording(name)), tracker))
    geometry = np.array([r.geometry if r.face else np.full(len(GEOMETRY_NAMES), np.nan) for r in records])
    face = np.array([r.face for r in records])
    times = np.array([r.time_s for r in records])
    return QualityInputs(np.zeros((len(records), 52)), face, times - times[0], np.zeros((len(records), 3)), geometry,
                         np.ones(len(records), bool))


def test_a_talking_head_does_not_jump_and_a_swapped_face_does(media):
    q = inputs(media, "hdtf_WDA_AlexandriaOcasioCortez_000.mp4")
    assert face_jumps(q) == []
    moved = q.geometry.copy()
    k = 100
    cols = [GEOMETRY_NAMES.index(c) for c in ("face_x0", "face_x1")]
    width = np.nanmedian(moved[:, cols[1]] - moved[:, cols[0]])
    moved[k:, cols] += width  # from frame k the box is one face-width to the right: another face
    swapped = QualityInputs(q.raw, q.face, q.times_s, q.pose, moved, q.speech)
    assert face_jumps(swapped) == [round(float(q.times_s[k]), 3)]
    assert face_jumps(swapped) != [round(float(q.times_s[k - 1]), 3)]
    quality = {"face_jump_s": face_jumps(swapped)[0]}
    assert any(r.startswith(f"a different face from {q.times_s[k]:.1f} s") for r in reasons(quality))
