"""Exact clip cutting: one decode pass over the source, every clip re-encoded.

A clip starts at its first video frame's PTS and ends where the next frame
starts, so its duration is exactly the time its frames are on screen.  Its
audio is the source audio over that same interval, sample-exact (the AAC
encoder's priming is hidden by the MP4 edit list), so the first video frame
and the first audio sample of a clip share one source time.  Frames keep their
relative PTS (variable frame rate survives), upright (rotation applied).
Packet copy (``ffmpeg -c copy``) would snap to keyframes and is not used.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .audio import TimelineAligner
from .decode import frame_to_rgb
from .errors import InputError
from .probe import open_container, upright_turns


@dataclass(frozen=True)
class ClipRequest:
    index: int
    path: Path  # final name of the clip file (written as a temporary file, then renamed)
    start_s: float  # wanted span in container time; frames with start <= PTS < end belong to the clip
    end_s: float


@dataclass
class CutClip:
    index: int
    path: Path
    start_s: float  # container time of the first frame (and first audio sample)
    end_s: float  # container time where the clip ends (the next frame's PTS)
    frames: int
    width: int
    height: int
    audio_padded_s: float  # silence added where the source audio had no samples


@dataclass(frozen=True)
class EncodeSettings:
    video_codec: str = "libx264"
    # ultrafast: the 30-minute benchmark in 345 s instead of 373 s (superfast) for 29% larger clip files
    preset: str = "ultrafast"
    crf: int = 18
    audio_codec: str = "aac"
    audio_bit_rate: int = 128_000


class AudioBuffer:
    """Decoded source audio (channels, samples) on the container timeline, trimmed as clips finish."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate, self.channels = rate, channels
        self.aligner = TimelineAligner(rate)  # silence for holes in the audio, so nothing slides
        self.first = 0  # absolute index of chunks[0][0]
        self.total = 0  # absolute index one past the last sample
        self.chunks: list[np.ndarray] = []

    @property
    def origin(self) -> float | None:  # container time of absolute sample 0
        return self.aligner.origin

    def append(self, time_s: float | None, samples: np.ndarray) -> None:
        for chunk in self.aligner.place(time_s, samples):
            self.chunks.append(chunk)
            self.total += chunk.shape[1]

    @property
    def end_time_s(self) -> float:
        return -1.0 if self.origin is None else self.origin + self.total / self.rate

    def index(self, time_s: float) -> int:
        return int(round((time_s - (self.origin or 0.0)) * self.rate))

    def take(self, start_s: float, end_s: float) -> tuple[np.ndarray, int]:
        """Samples for [start_s, end_s) and how many of them are padding."""
        lo, hi = self.index(start_s), self.index(end_s)
        out = np.zeros((self.channels, max(hi - lo, 0)), np.float32)
        data = np.concatenate(self.chunks, axis=1) if len(self.chunks) > 1 else (self.chunks[0] if self.chunks else None)
        if data is not None:
            self.chunks = [data]
            a, b = max(lo, self.first), min(hi, self.total)
            if b > a:
                out[:, a - lo: b - lo] = data[:, a - self.first: b - self.first]
            padded = out.shape[1] - max(b - a, 0)
        else:
            padded = out.shape[1]
        return out, padded

    def drop_before(self, time_s: float) -> None:
        """Forget samples more than a second before ``time_s`` (memory stays one clip long)."""
        if time_s == float("inf"):  # no clip left to serve
            self.first += sum(c.shape[1] for c in self.chunks)
            self.chunks = []
            return
        keep_from = self.index(time_s) - self.rate  # a second of slack for rounding
        while self.chunks and self.first + self.chunks[0].shape[1] <= keep_from:
            self.first += self.chunks[0].shape[1]
            self.chunks.pop(0)
        if self.chunks and self.first < keep_from:  # trim inside the first chunk too (take() merges chunks)
            cut = keep_from - self.first
            self.chunks[0] = self.chunks[0][:, cut:].copy()
            self.first += cut


class ClipEncoder:
    """One output clip: H.264 video with the source's relative PTS, AAC audio from sample 0."""

    def __init__(self, request: ClipRequest, start_s: float, width: int, height: int, fps: Fraction,
                 time_base: Fraction, audio_rate: int, audio_layout: str, settings: EncodeSettings) -> None:
        import av

        self.request, self.start_s, self.end_s = request, start_s, None
        self.frames = 0
        self.width, self.height = width - width % 2, height - height % 2  # yuv420p needs even sizes
        self.temp = request.path.with_name(f".{request.path.name}.{os.getpid()}.partial")
        self.container = av.open(str(self.temp), "w", format="mp4")
        self.video = self.container.add_stream(settings.video_codec, rate=fps,
                                               options={"preset": settings.preset, "crf": str(settings.crf)})
        self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
        self.video.time_base = time_base
        self.video.codec_context.time_base = time_base
        self.time_base = time_base
        self.audio = self.container.add_stream(settings.audio_codec, rate=audio_rate, layout=audio_layout)
        self.audio.bit_rate = settings.audio_bit_rate
        self.audio_layout, self.audio_rate = audio_layout, audio_rate

    def add_frame(self, source, time_s: float) -> None:
        """Encode one decoded source frame at its time relative to the clip start.

        An upright, even-sized frame goes to the encoder as decoded (no RGB
        round trip); a rotated or odd-sized one is turned upright/cropped first.
        """
        import av

        if getattr(source, "rotation", 0) or source.width != self.width or source.height != self.height:
            rgb = frame_to_rgb(source)[: self.height, : self.width]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        else:
            frame = source
        frame.pts = int(round((time_s - self.start_s) / self.time_base))
        frame.time_base = self.time_base
        for packet in self.video.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def finish(self, samples: np.ndarray) -> None:
        """Encode the clip's audio, flush both encoders, close and rename into place."""
        import av

        for packet in self.video.encode():
            self.container.mux(packet)
        block = 1024 * 16
        for offset in range(0, samples.shape[1], block):
            chunk = np.ascontiguousarray(samples[:, offset: offset + block])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.audio_layout)
            frame.sample_rate = self.audio_rate
            frame.pts = offset
            frame.time_base = Fraction(1, self.audio_rate)
            for packet in self.audio.encode(frame):
                self.container.mux(packet)
        for packet in self.audio.encode():
            self.container.mux(packet)
        self.container.close()
        os.replace(self.temp, self.request.path)

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        try:
            os.unlink(self.temp)
        except OSError:
            pass


def cut_clips(source: str | os.PathLike[str], requests: list[ClipRequest], settings: EncodeSettings = EncodeSettings(),
              progress: Callable[[float], None] | None = None,
              on_done: Callable[[CutClip], None] | None = None) -> list[CutClip]:
    """Write every requested clip in one pass over ``source`` (requests sorted, not overlapping).

    ``progress`` receives the container time reached; ``on_done`` each clip as
    soon as its file is in place, so later stages can start on it while the
    pass goes on.  Clips whose span holds no video frame are skipped.
    """
    import av

    requests = sorted(requests, key=lambda r: r.start_s)
    if not requests:
        return []
    container = open_container(source)
    open_clip: ClipEncoder | None = None
    waiting: list[ClipEncoder] = []  # video complete, audio not yet decoded up to its end
    done: list[CutClip] = []
    try:
        vstream, astream = container.streams.video[0], container.streams.audio[0]
        fps = Fraction(vstream.average_rate or 25).limit_denominator(1001)
        channels = min(astream.codec_context.channels, 2)
        layout = "mono" if channels == 1 else "stereo"
        rate = astream.codec_context.sample_rate
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        audio = AudioBuffer(rate, channels)
        step = float(1 / fps)
        last_time: float | None = None
        j = 0

        def finish(clip: ClipEncoder, allow_padding: bool) -> bool:
            if not allow_padding and audio.end_time_s < clip.end_s:
                return False
            samples, padded = audio.take(clip.start_s, clip.end_s)
            clip.finish(samples)
            done.append(CutClip(clip.request.index, clip.request.path, clip.start_s, clip.end_s, clip.frames,
                                clip.width, clip.height, padded / rate))
            if on_done:
                on_done(done[-1])
            return True

        def on_video(frame) -> None:
            nonlocal open_clip, j, last_time
            t = float(frame.pts * vstream.time_base) if frame.pts is not None else (last_time or 0.0) + step
            last_time = t
            while j < len(requests) and t >= requests[j].end_s:
                if open_clip is not None:
                    open_clip.end_s = t
                    waiting.append(open_clip)
                    open_clip = None
                j += 1
            if j < len(requests) and t >= requests[j].start_s:
                if open_clip is None:
                    turned = upright_turns(frame.rotation or 0) % 2
                    width, height = (frame.height, frame.width) if turned else (frame.width, frame.height)
                    open_clip = ClipEncoder(requests[j], t, width, height, fps, vstream.time_base,
                                            rate, layout, settings)
                open_clip.add_frame(frame, t)
            if progress:
                progress(t)

        for packet in container.demux(vstream, astream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue  # a damaged packet: extraction reports damage; cutting keeps going
            if packet.stream.type == "video":
                for frame in frames:
                    on_video(frame)
            else:
                for frame in frames:
                    t = float(frame.pts * frame.time_base) if frame.pts is not None else None
                    for out in resampler.resample(frame):
                        audio.append(t, out.to_ndarray())
            waiting[:] = [clip for clip in waiting if not finish(clip, allow_padding=False)]
            oldest = min([c.start_s for c in waiting] + ([open_clip.start_s] if open_clip else [])
                         + ([requests[j].start_s] if j < len(requests) else [float("inf")]))
            audio.drop_before(oldest)
        for out in resampler.resample(None):
            audio.append(None, out.to_ndarray())
        if open_clip is not None:
            open_clip.end_s = (last_time or open_clip.start_s) + step
            waiting.append(open_clip)
            open_clip = None
        for clip in waiting:
            finish(clip, allow_padding=True)
        waiting.clear()
    except av.error.FFmpegError as exc:
        raise InputError(source, f"cutting clips failed: {exc.strerror or exc}") from None
    finally:
        for clip in waiting + ([open_clip] if open_clip else []):
            clip.abort()
        container.close()
    return sorted(done, key=lambda c: c.index)
