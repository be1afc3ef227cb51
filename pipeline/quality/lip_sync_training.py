"""What the shipped audio-to-mouth model is trained from: the project's public genuine recordings, tracked with
the project's MediaPipe model exactly as the clip worker tracks them (scripts/train_lip_sync_model.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.audio.track import SAMPLE_RATE, decode_audio
from pipeline.face.blendshape_names import MEDIAPIPE_NAMES
from pipeline.face.extract import track_frames
from pipeline.face.face_geometry import GEOMETRY_NAMES
from pipeline.face.landmarks import FaceLandmarkTracker
from pipeline.media.decode import VideoFrameReader
from pipeline.quality.lip_sync_model import Recording

# One speaker each, with their own audio.
TRAINING = (("retalk_face1.mp4", "Apache-2.0 (video-retalking examples)"),
            ("retalk_face2.mp4", "Apache-2.0 (video-retalking examples)"),
            ("retalk_face3.mp4", "Apache-2.0 (video-retalking examples)"),
            ("hdtf_WDA_AlexandriaOcasioCortez_000.mp4", "Apache-2.0 (SadTalker examples, an HDTF clip)"),
            ("hdtf_WDA_KatieHill_000.mp4", "Apache-2.0 (SadTalker examples, an HDTF clip)"))


def tracked_recording(path: Path, tracker: FaceLandmarkTracker, licence: str = "") -> Recording:
    """A video's mouth per frame (lip gap, jawOpen; NaN without a face) and its 16 kHz audio."""
    tracker.restart()
    records = list(track_frames(VideoFrameReader(path), tracker))
    times = np.array([r.time_s for r in records])
    lip = np.array([r.geometry[GEOMETRY_NAMES.index("lip_gap")] if r.face and r.geometry is not None else np.nan
                    for r in records])
    jaw = np.array([r.blendshapes[MEDIAPIPE_NAMES.index("jawOpen")] if r.face else np.nan for r in records])
    audio = decode_audio(path, SAMPLE_RATE)
    return Recording(path.name, times, lip, jaw, audio.samples, audio.start_time_s, audio.sample_rate, licence)


def training_recordings(media: Path) -> list[Recording]:
    missing = [name for name, _ in TRAINING if not (media / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{media}: missing {', '.join(missing)}")
    with FaceLandmarkTracker() as tracker:
        return [tracked_recording(media / name, tracker, licence) for name, licence in TRAINING]


def sync_with_audio(face: Recording, source: Recording, audio_start_s: float | None = None, delay_s: float = 0.0,
                    lo_s: float | None = None, hi_s: float | None = None, params=None):
    """Lip sync of ``face``'s frames in [lo_s, hi_s) against ``source``'s audio (the face's own, or another
    speaker's) starting at ``audio_start_s`` in it (default: where the frames start) and delayed by ``delay_s``
    (positive: late): how tests and the benchmark build genuine, delayed and foreign cases."""
    from pipeline.quality.lip_sync import LipSyncParams, estimate_lip_sync

    keep = np.ones(face.times_s.size, bool)
    if lo_s is not None:
        keep = (face.times_s >= lo_s) & (face.times_s < hi_s)
    times = face.times_s[keep]
    start = (times[0] if audio_start_s is None else audio_start_s) - delay_s  # source time at clip time 0
    first = int(round((start - 1.0 - source.audio_start_s) * source.sample_rate))
    count = int(round((times[-1] - times[0] + 2.0) * source.sample_rate))
    context = np.zeros(count, np.float32)
    a, b = max(first, 0), min(first + count, source.audio.size)
    if b > a:
        context[a - first: b - first] = source.audio[a:b]
    return estimate_lip_sync(times - times[0], face.lip_gap[keep], face.jaw_open[keep], context, -1.0,
                             source.sample_rate, params or LipSyncParams())
