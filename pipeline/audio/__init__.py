"""Audio on the frames' clock: decoding to 16 kHz, speech segmentation (webrtcvad), the spectral
definitions (librosa's) and the per-frame audio features.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

PUBLIC = {
    "AudioTrack": "track",
    "DEFAULT_FEATURES": "features",
    "FeatureParams": "features",
    "SAMPLE_RATE": "track",
    "SegmentParams": "segment",
    "Segmentation": "segment",
    "Span": "segment",
    "SpeechFlags": "segment",
    "TimelineAligner": "track",
    "compute_features": "features",
    "decode_audio": "track",
    "flags_between": "segment",
    "hann_periodic": "spectral",
    "mel_filterbank": "spectral",
    "power_to_db": "spectral",
    "segment_speech": "segment",
    "vad_flags": "segment",
    "write_wav": "track",
}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
