"""Audio on the frames' clock: decoding to 16 kHz, speech segmentation (webrtcvad), the spectral
definitions (librosa's) and the per-frame audio features.

The names other packages use, loaded on first use (importing the package loads no module of it).
"""
from __future__ import annotations

from pipeline.public import lazy_names

MODULES = {  # module -> the names other packages use from it
    "features": ("DEFAULT_FEATURES", "FeatureParams", "compute_features"),
    "segment": ("SegmentParams", "Segmentation", "Span", "SpeechFlags", "flags_between", "segment_speech",
                "vad_flags"),
    "spectral": ("hann_periodic", "mel_filterbank", "power_to_db"),
    "track": ("AudioTrack", "SAMPLE_RATE", "TimelineAligner", "decode_audio", "write_wav"),
}
PUBLIC = {name: module for module, names in MODULES.items() for name in names}
__all__ = sorted(PUBLIC)
__getattr__ = lazy_names(__name__, PUBLIC)
