"""Decode a file's audio once to 16 kHz mono, placed on the container timeline."""
from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.errors import InputError
from pipeline.media.probe import LIMITS, open_container

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioTrack:
    samples: np.ndarray  # float32 in [-1, 1], mono
    sample_rate: int
    start_time_s: float  # container time of samples[0]

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate

    @property
    def end_time_s(self) -> float:
        return self.start_time_s + self.duration_s

    def slice(self, start_s: float, end_s: float) -> np.ndarray:
        """Samples covering container time [start_s, end_s), zero-padded where the track has none."""
        first = int(round((start_s - self.start_time_s) * self.sample_rate))
        count = int(round((end_s - start_s) * self.sample_rate))
        out = np.zeros(count, dtype=np.float32)
        lo, hi = max(first, 0), min(first + count, self.samples.size)
        if hi > lo:
            out[lo - first: hi - first] = self.samples[lo:hi]
        return out


    def excerpt(self, start_s: float, end_s: float) -> "AudioTrack":
        """The track over [start_s, end_s) (zeros beyond its ends), starting exactly on one of its samples."""
        first = int(round((start_s - self.start_time_s) * self.sample_rate))
        exact = self.start_time_s + first / self.sample_rate
        return AudioTrack(self.slice(exact, end_s), self.sample_rate, exact)


class TimelineAligner:
    """Keep decoded audio on its PTS timeline: silence for gaps, trimming for overlaps.

    Decoders hand over samples back to back; a file with a hole in its audio
    (or packets that overlap) would otherwise slide every later sample.
    Differences under ``tolerance_s`` are ordinary rounding and ignored.
    """

    def __init__(self, rate: int, tolerance_s: float = 0.005) -> None:
        self.rate = rate
        self.tolerance = int(round(tolerance_s * rate))
        self.origin: float | None = None
        self.written = 0  # samples emitted so far
        self.skip = 0  # samples still to drop after an overlap
        self.bias = 0  # steady offset seen on ordinary frames (a resampler's delay), not a hole

    def place(self, time_s: float | None, samples: np.ndarray) -> list[np.ndarray]:
        """Chunks to append (last axis = time) for ``samples`` that start at ``time_s``."""
        out: list[np.ndarray] = []
        if time_s is not None:
            if self.origin is None:
                self.origin = time_s
            drift = int(round((time_s - self.origin) * self.rate)) - (self.written + self.skip)
            if drift - self.bias > self.tolerance:
                hole = drift - self.bias
                out.append(np.zeros(samples.shape[:-1] + (hole,), dtype=samples.dtype))
                self.written += hole
            elif drift - self.bias < -self.tolerance:
                self.skip += self.bias - drift
            else:
                self.bias = drift
        elif self.origin is None:
            self.origin = 0.0
        if self.skip:
            cut = min(self.skip, samples.shape[-1])
            samples = samples[..., cut:]
            self.skip -= cut
        if samples.shape[-1]:
            out.append(samples)
            self.written += samples.shape[-1]
        return out


def decode_audio(path: str | os.PathLike[str], sample_rate: int = SAMPLE_RATE) -> AudioTrack:
    """The first audio stream as mono float32 at ``sample_rate``.

    Samples are appended in decode order and anchored at the first frame's
    PTS; resampling is done by FFmpeg (swr) in one streaming pass.
    """
    import av

    container = open_container(path)
    try:
        if not container.streams.audio:
            raise InputError(path, "no audio track; a speech dataset needs audio")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        aligner = TimelineAligner(sample_rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                time_s = float(frame.pts * frame.time_base) if frame.pts is not None else None
                if time_s is not None and time_s > LIMITS.max_duration_s + 60:  # a header may understate the length
                    raise InputError(path, LIMITS.problems(1, 1, 0.0, time_s))
                converted = [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
                if converted:
                    chunks.extend(aligner.place(time_s, np.concatenate(converted)))
                elif aligner.origin is None and time_s is not None:
                    aligner.origin = time_s
            for out in resampler.resample(None):
                chunks.extend(aligner.place(None, out.to_ndarray().reshape(-1)))
        except av.error.FFmpegError as exc:
            if not chunks:
                raise InputError(path, f"the audio track cannot be decoded ({exc.strerror or exc})") from None
        samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
        if samples.size == 0:
            raise InputError(path, "the audio track is empty; a speech dataset needs audio")
        return AudioTrack(samples, sample_rate, aligner.origin or 0.0)
    finally:
        container.close()


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """16-bit PCM mono WAV, written atomically."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with atomic_output(path, mode="wb") as fh:
        with wave.open(fh, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm.tobytes())
    return Path(path)
