"""Small synthetic videos made with PyAV at test time."""
from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_video(path: Path, frames: list[np.ndarray], pts_ms: list[int], audio: bool = False,
                codec: str = "libx264") -> Path:
    """Encode RGB frames with explicit presentation times in milliseconds (any spacing: VFR)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        for rgb, pts in zip(frames, pts_ms):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = pts
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_audio_only(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A WAV file: a perfectly valid media file with no video stream."""
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        samples = (np.sin(np.arange(int(seconds * rate)) * 0.05) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def remux(src: Path, dst: Path, faststart: bool = True, rotate_tkhd: bool = False) -> Path:
    """Copy packets into a new MP4 (moov first when faststart)."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(src)) as inp, av.open(str(dst), "w", options=options) as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    return dst


def set_display_rotation(path: Path) -> None:
    """Patch the first track header's matrix to the one phones write for portrait (-90 degrees)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    version = data[at + 4]
    offset = at + 8 + (20 if version == 0 else 32) + 8 + 8
    data[offset:offset + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def truncate(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def delay_audio(src: Path, dst: Path, ms: float) -> Path:
    """Re-mux with every audio packet shifted later by ``ms`` (video untouched)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            if packet.stream.type == "audio":
                shift = int(round(ms / 1000 / packet.time_base))
                packet.pts += shift
                packet.dts += shift
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    return dst


def write_av(path: Path, video_seconds: float, audio: np.ndarray | None, rate: int = 16000, fps: int = 25,
             size: tuple[int, int] = (64, 48)) -> Path:
    """A small MP4 with moving grey frames and the given mono audio (None: no audio stream)."""
    width, height = size
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        as_ = out.add_stream("aac", rate=rate, layout="mono") if audio is not None else None
        for i in range(int(video_seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), (i * 7) % 255, np.uint8), format="rgb24")
            frame.pts = i
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if as_ is not None:
            for offset in range(0, audio.size, 4096):
                chunk = audio[offset:offset + 4096].astype(np.float32)[None, :]
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="flt", layout="mono")
                frame.sample_rate = rate
                frame.pts = offset
                for packet in as_.encode(frame):
                    out.mux(packet)
            for packet in as_.encode():
                out.mux(packet)
    return path


def cut_audio_short(src: Path, dst: Path, audio_end_s: float) -> Path:
    """Re-mux ``src`` keeping every video packet but only the audio packets that start before ``audio_end_s``."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            if packet.stream.type == "audio" and float(packet.pts * packet.time_base) >= audio_end_s:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    return dst


def mux_video_with_audio(video_src: Path, audio_src: Path, dst: Path, audio_from_s: float = 0.0) -> Path:
    """``video_src``'s video with ``audio_src``'s audio from ``audio_from_s`` on (packet copy, both from time 0)."""
    with av.open(str(video_src)) as vin, av.open(str(audio_src)) as ain, av.open(str(dst), "w") as out:
        vstream = out.add_stream_from_template(vin.streams.video[0])
        astream = out.add_stream_from_template(ain.streams.audio[0])
        for packet in vin.demux(vin.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = vstream
            out.mux(packet)
        shift = None
        for packet in ain.demux(ain.streams.audio[0]):
            if packet.dts is None or float(packet.pts * packet.time_base) < audio_from_s:
                continue
            if shift is None:
                shift = packet.pts
            packet.pts -= shift
            packet.dts -= shift
            packet.stream = astream
            out.mux(packet)
    return dst


def still_face_with_speech(face_src: Path, audio_src: Path, dst: Path, seconds: float, fps: int = 25,
                           noise: float = 2.0, seed: int = 0) -> Path:
    """The first frame of ``face_src`` held for ``seconds`` (with a little sensor noise), and ``audio_src``'s audio."""
    rng = np.random.default_rng(seed)
    with av.open(str(face_src)) as inp:
        still = next(inp.decode(video=0)).to_ndarray(format="rgb24").astype(np.float32)
    still = still[: still.shape[0] // 2 * 2, : still.shape[1] // 2 * 2]
    with av.open(str(audio_src)) as ain, av.open(str(dst), "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "18"})
        vs.height, vs.width = still.shape[:2]
        vs.pix_fmt = "yuv420p"
        astream = out.add_stream_from_template(ain.streams.audio[0])  # every stream before the first packet
        for i in range(int(seconds * fps)):
            rgb = np.clip(still + rng.normal(0, noise, still.shape), 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        for packet in ain.demux(ain.streams.audio[0]):
            if packet.dts is None or float(packet.pts * packet.time_base) >= seconds:
                continue
            packet.stream = astream
            out.mux(packet)
    return dst


def _decoded(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Every frame (RGB) and the 16 kHz mono audio of a file."""
    from pipeline.audio.track import decode_audio

    with av.open(str(path)) as inp:
        frames = [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in inp.decode(video=0)]
    return frames, decode_audio(path).samples


def _fit(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    ys = np.linspace(0, rgb.shape[0] - 1, height).astype(int)
    xs = np.linspace(0, rgb.shape[1] - 1, width).astype(int)
    return rgb[ys][:, xs]


def write_talk(path: Path, frames: list[np.ndarray], audio: np.ndarray, fps: int = 25, rate: int = 16000) -> Path:
    """Frames at a constant ``fps`` (x264) with mono ``audio`` (AAC), both from time 0."""
    height, width = frames[0].shape[0] // 2 * 2, frames[0].shape[1] // 2 * 2
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "18"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        as_ = out.add_stream("aac", rate=rate, layout="mono")
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:height, :width]), format="rgb24")
            frame.pts = i
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        for offset in range(0, audio.size, 4096):
            chunk = np.ascontiguousarray(audio[offset:offset + 4096].astype(np.float32)[None, :])
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts = rate, offset
            for packet in as_.encode(frame):
                out.mux(packet)
        for packet in as_.encode():
            out.mux(packet)
    return path


def join_talks(first: Path, second: Path, dst: Path, crossfade_s: float = 0.0, fps: int = 25) -> tuple[Path, float]:
    """``first`` then ``second`` (scaled to its size) with no pause in the speech: a hard cut, or a cross-fade of
    ``crossfade_s`` (pictures and sound mixed).  Both sources must be 25 fps.  Returns (file, the time the second
    recording starts: the cut, or the fade's start)."""
    rate = 16000
    a_frames, a_audio = _decoded(first)
    b_frames, b_audio = _decoded(second)
    h, w = a_frames[0].shape[:2]
    b_frames = [_fit(f, h, w) for f in b_frames]
    fade = int(round(crossfade_s * fps))
    if fade:
        mixed = [(a_frames[len(a_frames) - fade + k] * (1 - (k + 1) / (fade + 1))
                  + b_frames[k] * ((k + 1) / (fade + 1))).astype(np.uint8) for k in range(fade)]
        frames = a_frames[:-fade] + mixed + b_frames[fade:]
    else:
        frames = a_frames + b_frames
    start = (len(a_frames) - fade) / fps
    n_a = int(round(len(a_frames) / fps * rate))
    audio_a, audio_b = a_audio[:n_a], b_audio
    overlap = int(round(fade / fps * rate))
    if overlap:
        ramp = np.linspace(0, 1, overlap, dtype=np.float32)
        audio = np.concatenate([audio_a[:-overlap], audio_a[-overlap:] * (1 - ramp) + audio_b[:overlap] * ramp,
                                audio_b[overlap:]])
    else:
        audio = np.concatenate([audio_a, audio_b])
    return write_talk(dst, frames, audio, fps, rate), start


def transformed_talk(src: Path, dst: Path, kind: str, fps: int = 25) -> Path:
    """One recording with a slow zoom and pan ("zoom"), or a one-frame white flash in its middle ("flash")."""
    frames, audio = _decoded(src)
    h, w = frames[0].shape[:2]
    n = len(frames)
    if kind == "zoom":
        out = []
        for k, rgb in enumerate(frames):
            z = 1 + 0.4 * k / n
            ch, cw = int(h / z), int(w / z)
            y0, x0 = int((h - ch) * k / n), int((w - cw) * (1 - k / n))
            out.append(_fit(rgb[y0:y0 + ch, x0:x0 + cw], h, w))
        frames = out
    elif kind == "flash":
        frames = list(frames)
        frames[n // 2] = np.full_like(frames[n // 2], 255)
    elif kind == "zoom_flash":  # both in one: a slow zoom and pan, and a white frame in its middle
        frames = _decoded(transformed_talk(src, dst.with_name(dst.stem + "_zoom.mp4"), "zoom", fps))[0]
        frames[n // 2] = np.full_like(frames[n // 2], 255)
    else:
        raise ValueError(kind)
    return write_talk(dst, frames, audio, fps)


def second_face_beside(src: Path, other: Path, dst: Path, fps: int = 25) -> Path:
    """``src`` with ``other``'s face (its frames at a third of the size) pasted in its top-left corner."""
    frames, audio = _decoded(src)
    pasted, _ = _decoded(other)
    h, w = frames[0].shape[:2]
    out = []
    for k, rgb in enumerate(frames):
        small = _fit(pasted[k % len(pasted)], h // 3, w // 3)
        rgb = rgb.copy()
        rgb[: h // 3, : w // 3] = small
        out.append(rgb)
    return write_talk(dst, out, audio, fps)


def head_then(first: Path, second: Path, dst: Path, seconds: float, fps: int = 25) -> Path:
    """The first ``seconds`` of ``first`` (picture and sound), then all of ``second`` scaled to its size: a recording
    that shares footage with ``first`` (both sources 25 fps), re-encoded."""
    rate = 16000
    a_frames, a_audio = _decoded(first)
    b_frames, b_audio = _decoded(second)
    h, w = a_frames[0].shape[:2]
    keep = int(round(seconds * fps))
    frames = a_frames[:keep] + [_fit(f, h, w) for f in b_frames]
    audio = np.concatenate([a_audio[: int(round(keep / fps * rate))], b_audio])
    return write_talk(dst, frames, audio, fps, rate)


def with_pause(src: Path, dst: Path, pause_s: float = 5.0, fps: int = 25) -> Path:
    """``src`` (25 fps), then ``pause_s`` of its last frame over near-silence, then ``src`` again: a recording with
    a pause in which a face is on screen and nobody speaks."""
    rate = 16000
    frames, audio = _decoded(src)
    quiet = (np.random.default_rng(0).standard_normal(int(rate * pause_s)) * 1e-3).astype(np.float32)
    n = len(frames) * rate // fps
    return write_talk(dst, frames + [frames[-1]] * int(round(pause_s * fps)) + frames,
                      np.concatenate([audio[:n], quiet, audio[:n]]), fps, rate)
