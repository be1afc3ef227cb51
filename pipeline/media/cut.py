"""Exact clip cutting from the source's own decoded frames, one decode per clip.

A clip holds every source frame whose display interval [PTS, next PTS)
overlaps the speech span: it starts at the frame on screen when speech
begins (at most one frame of pre-roll) and ends with the frame on screen
when it stops; its duration is exactly the time its frames are on screen.
Its audio is the source audio over that same interval, sample-exact (the AAC
encoder's priming is hidden by the MP4 edit list), so the first video frame
and the first audio sample of a clip share one source time.  Frames keep
their relative PTS (variable frame rate survives), upright (rotation applied).
Packet copy (``ffmpeg -c copy``) would snap to keyframes and is not used.

Each clip seeks to the keyframe before its span and decodes the span once;
the same decoded frames feed the face tracker and the clip's encoder, so
the analysis never sees the lossy clip encode.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from pipeline.atomic import partial_path
from pipeline.audio.track import TimelineAligner
from pipeline.media.decode import DecodedFrame, frame_to_rgb
from pipeline.errors import InputError
from pipeline.media.probe import open_container
from pipeline.media.shots import frame_signature

SEEK_MARGIN_S = 1.0  # seek this far before a span: the frame showing at its start began earlier


@dataclass(frozen=True)
class SpanFrame(DecodedFrame):
    """A decoded source frame of a clip: ``index``/``time_s`` in the clip, ``source`` the PyAV frame."""

    source_time_s: float = 0.0
    duration_s: float = 0.0  # until the next frame (the nominal interval for the last frame of the stream)
    source: object = None


@dataclass(frozen=True)
class EncodeSettings:
    video_codec: str = "libx264"
    # ultrafast: the 30-minute benchmark in 345 s instead of 373 s (superfast) for 29% larger clip files
    preset: str = "ultrafast"
    crf: int = 18
    audio_codec: str = "aac"
    audio_bit_rate: int = 128_000


class ClipEncoder:
    """One output clip: H.264 video with the source's relative PTS, AAC audio from sample 0."""

    def __init__(self, path: Path, width: int, height: int, fps: Fraction, time_base: Fraction,
                 audio_rate: int, audio_layout: str, settings: EncodeSettings) -> None:
        import av

        self.path = Path(path)
        self.frames = 0
        self.done = False  # finished and renamed into place
        self.durations: dict[int, int] = {}  # pts -> frame duration, for the packets still inside the encoder
        self.width, self.height = width - width % 2, height - height % 2  # yuv420p needs even sizes
        self.temp = partial_path(self.path)
        # A fine movie timescale makes the edit lists (which hide the AAC priming and the padding of its
        # last frame) exact to the sample instead of to the millisecond.
        self.container = av.open(str(self.temp), "w", format="mp4", options={"movie_timescale": str(audio_rate)})
        self.video = self.container.add_stream(settings.video_codec, rate=fps,
                                               options={"preset": settings.preset, "crf": str(settings.crf),
                                                        # one thread: 1.5 instead of 2.1 ms of CPU a frame here, and
                                                        # each worker already keeps a core busy
                                                        "threads": "1"})
        self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
        self.video.time_base = time_base
        self.video.codec_context.time_base = time_base
        self.time_base = time_base
        self.audio = self.container.add_stream(settings.audio_codec, rate=audio_rate, layout=audio_layout)
        self.audio.bit_rate = settings.audio_bit_rate
        self.audio_layout, self.audio_rate = audio_layout, audio_rate

    def add_frame(self, frame: SpanFrame) -> None:
        """Encode one decoded source frame at its clip time.

        An upright, even-sized frame goes to the encoder as decoded (no RGB
        round trip); a rotated or odd-sized one is encoded from its upright RGB.
        """
        import av

        source = frame.source
        if getattr(source, "rotation", 0) or source.width != self.width or source.height != self.height:
            rgb = frame.rgb[: self.height, : self.width]
            out = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        else:
            out = source
        out.pts = int(round(frame.time_s / self.time_base))
        out.time_base = self.time_base
        # Each packet lasts until the next frame, the last one too, so the track is exactly the clip's length.
        self.durations[out.pts] = max(int(round(frame.duration_s / self.time_base)), 1)
        for packet in self.video.encode(out):
            self._mux_video(packet)
        self.frames += 1

    def _mux_video(self, packet) -> None:
        duration = self.durations.pop(packet.pts, None)
        if duration is not None:
            packet.duration = duration
        self.container.mux(packet)

    def finish(self, audio: Iterable[np.ndarray]) -> None:
        """Encode the clip's audio ((channels, n) blocks in order), flush both encoders, close, rename into place."""
        import av

        for packet in self.video.encode():
            self._mux_video(packet)
        block = 1024 * 16
        offset = 0
        for samples in audio:
            for start in range(0, samples.shape[1], block):
                chunk = np.ascontiguousarray(samples[:, start: start + block])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.audio_layout)
                frame.sample_rate = self.audio_rate
                frame.pts = offset
                frame.time_base = Fraction(1, self.audio_rate)
                offset += chunk.shape[1]
                for packet in self.audio.encode(frame):
                    self.container.mux(packet)
        for packet in self.audio.encode():
            self.container.mux(packet)
        self.container.close()
        os.replace(self.temp, self.path)
        self.done = True

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        try:
            os.unlink(self.temp)
        except OSError:
            pass



class SpanReader:
    """Iterate the source frames of one clip (see the module doc), decoded once.

    After iteration ``start_s``/``end_s`` are the clip's container times (its
    first frame's PTS, and the PTS of the frame after its last, or one nominal
    frame interval after it at the end of the stream); ``failed_packets``
    counts packets that would not decode (damage inside the span).
    """

    def __init__(self, path: str | os.PathLike[str], span_start_s: float, span_end_s: float,
                 lead_in_s: float = 0.0) -> None:
        self.path = Path(path)
        self.span_start_s, self.span_end_s = span_start_s, span_end_s
        # Shot detection (pipeline.media.shots) sees every frame yielded and the decoded frames of the lead-in
        # before the span: (container time, signature) in order.
        self.lead_in_s = lead_in_s
        self.signatures: list[tuple[float, np.ndarray]] = []
        self.start_s: float | None = None
        self.end_s: float | None = None
        self.frames = 0
        self.failed_packets = 0
        self.fps = Fraction(25)
        self.time_base = Fraction(1, 25)

    def _decoded(self, container, stream) -> Iterator[tuple[object, float]]:
        import av

        step = 1.0 / float(self.fps)
        last: float | None = None
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self.failed_packets += 1
                continue
            for frame in frames:
                t = float(frame.pts * stream.time_base) if frame.pts is not None else (last or 0.0) + step
                last = t
                yield frame, t

    def __iter__(self) -> Iterator[SpanFrame]:
        container = open_container(self.path)
        try:
            stream = container.streams.video[0]
            self.fps = Fraction(stream.average_rate or 25).limit_denominator(1001)
            self.time_base = stream.time_base
            target = self.span_start_s - max(SEEK_MARGIN_S, self.lead_in_s)
            origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            if target > origin:
                container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
            previous: tuple[object, float] | None = None
            for frame, t in self._decoded(container, stream):
                if previous is not None and t <= previous[1]:
                    continue  # a repeated or out-of-order timestamp: keep the first frame shown at that time
                if previous is not None and previous[1] < self.span_end_s and t > self.span_start_s:
                    yield self._frame(*previous, t)
                elif previous is not None and previous[1] >= self.span_start_s - self.lead_in_s:
                    self.signatures.append((previous[1], frame_signature(frame_to_rgb(previous[0], self.path))))
                if t >= self.span_end_s:
                    if self.start_s is not None:
                        self.end_s = t
                    return
                previous = (frame, t)
            if previous is not None:  # the stream ended inside the span: its last frame lasts one nominal interval
                end = previous[1] + 1.0 / float(self.fps)
                if end > self.span_start_s:
                    yield self._frame(*previous, end)
                    self.end_s = end
        finally:
            container.close()

    def _frame(self, frame, t: float, next_t: float) -> SpanFrame:
        if self.start_s is None:
            self.start_s = t
        self.frames += 1
        rgb = frame_to_rgb(frame, self.path)
        self.signatures.append((t, frame_signature(rgb)))
        return SpanFrame(self.frames - 1, frame.pts, t - self.start_s, rgb, t, next_t - t, frame)


@dataclass(frozen=True)
class AudioFormat:
    """What a clip's AAC track keeps of the source audio: its rate, and mono or stereo (more channels are downmixed)."""

    rate: int
    channels: int

    @property
    def layout(self) -> str:
        return "mono" if self.channels == 1 else "stereo"

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> "AudioFormat":
        container = open_container(path)
        try:
            context = container.streams.audio[0].codec_context
            return cls(context.sample_rate, min(context.channels, 2))
        finally:
            container.close()


class SourceAudio:
    """The source audio of container time [start_s, end_s) at its own rate, decoded block by block.

    Iterate it once: (channels, n) float32 blocks that together cover exactly
    the span, on the samples' PTS (holes in the source become silence).  Seeks
    half a second before ``start_s`` (AAC needs the previous frame to decode
    the first one).  Never holds the span's audio in memory at once.  After
    iteration ``padded`` counts the samples of silence added where the source
    has no audio (audio that starts late or ends early).
    """

    def __init__(self, path: str | os.PathLike[str], start_s: float, end_s: float, fmt: AudioFormat) -> None:
        self.path, self.start_s, self.end_s = path, start_s, end_s
        self.channels, self.rate, self.layout = fmt.channels, fmt.rate, fmt.layout
        self.padded = 0

    def _silence(self, count: int) -> np.ndarray:
        self.padded += count
        return np.zeros((self.channels, count), np.float32)

    def __iter__(self) -> Iterator[np.ndarray]:
        import av

        container = open_container(self.path)
        try:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
            aligner = TimelineAligner(self.rate)
            target = self.start_s - 0.5
            origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            if target > origin:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            lo = hi = emitted = position = None
            try:
                for packet in container.demux(stream):
                    try:
                        frames = packet.decode()
                    except av.error.FFmpegError:
                        continue  # a damaged packet becomes silence on the timeline
                    for frame in frames:
                        t = float(frame.pts * frame.time_base) if frame.pts is not None else None
                        for out in resampler.resample(frame):
                            for chunk in aligner.place(t, out.to_ndarray()):
                                if lo is None:  # the timeline's origin is known from the first frame on
                                    lo = int(round((self.start_s - aligner.origin) * self.rate))
                                    hi = lo + int(round((self.end_s - self.start_s) * self.rate))
                                    emitted, position = lo, 0
                                if position > emitted and emitted < hi:
                                    gap = min(position, hi) - emitted
                                    yield self._silence(gap)
                                    emitted += gap
                                a, b = max(emitted, position), min(hi, position + chunk.shape[1])
                                if b > a:
                                    yield np.ascontiguousarray(chunk[:, a - position: b - position])
                                    emitted = b
                                position += chunk.shape[1]
                    if emitted is not None and emitted >= hi:
                        break
            except av.error.FFmpegError as exc:
                raise InputError(self.path, f"the audio stops decoding near {self.start_s:.2f} s "
                                            f"({exc.strerror or exc})") from None
            if lo is None:
                yield self._silence(int(round((self.end_s - self.start_s) * self.rate)))
            elif emitted < hi:
                yield self._silence(hi - emitted)
        finally:
            container.close()


class BackgroundClipEncoder:
    """A :class:`ClipEncoder` fed through a small queue by a thread of its own.

    MediaPipe's inference runs in its own thread and PyAV releases the GIL while
    encoding, so the clip's H.264 encode overlaps the face tracking instead of
    adding to it (measured: one worker 67 -> 80+ frames/s).  Errors in the
    thread surface at :meth:`finish`.
    """

    def __init__(self, encoder: ClipEncoder, depth: int = 4) -> None:
        import queue
        import threading

        self.encoder = encoder
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="clip-encoder", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self.encoder.done

    def _run(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is None:
                try:
                    self.encoder.add_frame(frame)
                except BaseException as exc:  # noqa: BLE001 - handed to finish()
                    self._error = exc

    def add_frame(self, frame: SpanFrame) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(frame)

    def _drain(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def finish(self, audio: Iterable[np.ndarray]) -> None:
        self._drain()
        if self._error is not None:
            raise self._error
        self.encoder.finish(audio)

    def abort(self) -> None:
        if self._thread.is_alive():
            self._error = self._error or RuntimeError("aborted")
            self._drain()
        self.encoder.abort()
