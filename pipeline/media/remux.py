"""Give a clip file new audio: its video packets copied as they are (no re-encode), the audio encoded again.

Used by the A/V offset correction: the clip's pictures stay, its AAC track is the source's audio of a shifted
span.  Written to a temporary name and renamed, like every clip file.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from pipeline.atomic import partial_path
from pipeline.media.cut import EncodeSettings


def replace_audio(clip: str | os.PathLike[str], audio: Iterable[np.ndarray], rate: int, layout: str,
                  settings: EncodeSettings = EncodeSettings()) -> None:
    """Rewrite ``clip`` with its video stream copied and ``audio`` ((channels, n) float32 blocks from the clip's
    first sample) as its AAC track."""
    import av

    path = Path(clip)
    temp = partial_path(path)
    try:
        with av.open(str(path)) as source:
            video_in = source.streams.video[0]
            with av.open(str(temp), "w", format="mp4", options={"movie_timescale": str(rate)}) as out:
                video_out = out.add_stream_from_template(video_in)
                audio_out = out.add_stream(settings.audio_codec, rate=rate, layout=layout)
                audio_out.bit_rate = settings.audio_bit_rate
                for packet in source.demux(video_in):
                    if packet.dts is None:  # the demuxer's final flush packet
                        continue
                    packet.stream = video_out
                    out.mux(packet)
                offset = 0
                for samples in audio:
                    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32), format="fltp",
                                                       layout=layout)
                    frame.sample_rate, frame.pts, frame.time_base = rate, offset, Fraction(1, rate)
                    offset += samples.shape[1]
                    for packet in audio_out.encode(frame):
                        out.mux(packet)
                for packet in audio_out.encode():
                    out.mux(packet)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
