"""Face-aligned crop videos for lip-sync and talking-face trainers (Wav2Lip, LatentSync): the ``facecrops`` layout.

Per clip, ``clips/K/video.mp4`` (H.264, ``size`` x ``size`` px, 25 fps, the clip's 16 kHz audio as AAC),
``clips/K/audio.wav`` (16 kHz mono PCM, the same samples), ``clips/K/landmarks.npy`` (T x 478 x 2 float32: MediaPipe's
landmarks in the crop's pixels, NaN without a face) and ``clips/K/affine.npy`` (T x 2 x 3: the similarity transform
from the clip frame's pixels to the crop's).  Frame k of the crop video is at k / 25 s of the clip: the clip frame
on screen then (the last one whose PTS is at or before it), so picture, landmarks and audio sample k * 640 line up.

The alignment: a similarity transform (scale, rotation, shift) putting the eye centres and the mouth centre of
the frame's landmarks on fixed places of the crop (``TEMPLATE``, fractions of the size), fitted by least squares
and smoothed over ``SMOOTH_FRAMES`` frames so the crop does not shake with the landmarks' jitter; frames without
a face take the transform interpolated from their neighbours.  The crop's edges repeat the border pixels.
"""
from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

FPS = 25
SIZES = (256, 512)
TEMPLATE = {"left_eye": (0.36, 0.42), "right_eye": (0.64, 0.42), "mouth": (0.5, 0.74)}  # of the crop's size
SMOOTH_FRAMES = 5
# MediaPipe mesh vertices: the eyes' contours (the subject's right eye is on the image's left) and the lips
RIGHT_EYE = (33, 133, 159, 145, 158, 153, 160, 144)
LEFT_EYE = (263, 362, 386, 374, 385, 380, 387, 373)
MOUTH = (61, 291, 0, 17, 13, 14)


def anchor_points(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(T, 3, 2) pixels: image-left eye centre, image-right eye centre, mouth centre (NaN without a face)."""
    xy = np.asarray(landmarks[:, :, :2], np.float64) * np.array([width, height], np.float64)
    return np.stack([xy[:, RIGHT_EYE].mean(axis=1), xy[:, LEFT_EYE].mean(axis=1), xy[:, MOUTH].mean(axis=1)], axis=1)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(4,) a, b, tx, ty of x' = a x - b y + tx, y' = b x + a y + ty mapping src (N, 2) to dst by least squares."""
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(src, dst):
        rows += [[x, -y, 1, 0], [y, x, 0, 1]]
        rhs += [u, v]
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    return solution


def crop_transforms(landmarks: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """(T, 2, 3) affine matrices, frame pixels -> crop pixels, smoothed over time, filled where no face."""
    points = anchor_points(landmarks, width, height)
    target = np.array([TEMPLATE["left_eye"], TEMPLATE["right_eye"], TEMPLATE["mouth"]], np.float64) * size
    n = points.shape[0]
    params = np.full((n, 4), np.nan)
    for i in range(n):
        if not np.isnan(points[i]).any():
            params[i] = similarity(points[i], target)
    good = ~np.isnan(params).any(axis=1)
    if not good.any():
        raise ValueError("no frame with a face")
    index = np.arange(n)
    for j in range(4):
        params[~good, j] = np.interp(index[~good], index[good], params[good, j])
    kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
    padded = np.pad(params, ((SMOOTH_FRAMES // 2, SMOOTH_FRAMES // 2), (0, 0)), mode="edge")
    smooth = np.column_stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(4)])
    a, b, tx, ty = smooth.T
    return np.stack([np.stack([a, -b, tx], axis=1), np.stack([b, a, ty], axis=1)], axis=1)


def on_screen(times: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index of the frame on screen at each time t (the last with PTS <= t)."""
    return np.clip(np.searchsorted(times, t + 1e-6, side="right") - 1, 0, times.size - 1)


def crop_clip(clip_video: Path, face: dict, audio_wav: Path, size: int, work: Path) -> dict:
    """Encode one clip's crop video; returns {"video": bytes, "landmarks", "affine", "frames", "source_frames"}."""
    import cv2

    from pipeline.audio.track import decode_audio
    from pipeline.media.cut import ClipEncoder, EncodeSettings, SpanFrame
    from pipeline.media.decode import VideoFrameReader
    from pipeline.media.probe import probe

    info = probe(clip_video)
    width, height = info.width, info.height
    times = np.asarray(face["time_s"], np.float64)
    duration = float(times[-1]) + (float(times[-1] - times[0]) / max(times.size - 1, 1) if times.size > 1 else 0.04)
    out_times = np.arange(int(np.floor(duration * FPS + 1e-6))) / FPS
    pick = on_screen(times, out_times)
    affine = crop_transforms(face["landmarks"], width, height, size)[pick]
    xy = np.asarray(face["landmarks"][:, :, :2], np.float64)[pick] * np.array([width, height])
    marks = np.einsum("tij,tnj->tni", affine[:, :, :2], xy) + affine[:, None, :, 2]
    track = decode_audio(audio_wav)
    target = work / "crop.mp4"
    encoder = ClipEncoder(target, size, size, Fraction(FPS), Fraction(1, FPS), track.sample_rate, "mono",
                          EncodeSettings(preset="veryfast", crf=18))
    import av

    try:
        wanted = {int(j): [] for j in np.unique(pick)}
        for k, j in enumerate(pick):
            wanted[int(j)].append(k)
        reader = VideoFrameReader(clip_video)
        for frame in reader:
            for k in wanted.get(frame.index, ()):
                crop = cv2.warpAffine(frame.rgb, affine[k], (size, size), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)
                source = av.VideoFrame.from_ndarray(np.ascontiguousarray(crop), format="rgb24")
                encoder.add_frame(SpanFrame(k, None, k / FPS, crop, source_time_s=k / FPS, duration_s=1 / FPS,
                                            source=source))
            if frame.index >= pick[-1]:
                break
        encoder.finish([track.samples[None, : int(round(out_times.size / FPS * track.sample_rate))]])
    except BaseException:
        encoder.abort()
        raise
    data = target.read_bytes()
    target.unlink()
    return {"video": data, "landmarks": marks.astype(np.float32), "affine": affine.astype(np.float32),
            "frames": int(out_times.size), "source_frames": int(times.size)}


def crop_in_temp(clip_video: Path, face: dict, audio_wav: Path, size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="facecrop-") as work:
        return crop_clip(clip_video, face, audio_wav, size, Path(work))
