"""#24: shared footage is found by its sound: a recording holding another's first 6.6 s, the three recordings
talk3 was built from at their known places, and nothing between different speakers."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio.track import decode_audio
from pipeline.media.fingerprint import audio_fingerprint, shared_footage
from testing.media_factory import head_then

AOC, KH = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4", "hdtf_WDA_KatieHill_000.mp4"


def fingerprint(path, gain: float = 1.0):
    track = decode_audio(path)
    return audio_fingerprint(track.samples * gain, track.sample_rate)


def test_a_recording_holding_another_s_first_seconds_shares_them(media, tmp_path):
    joined = head_then(media(AOC), media(KH), tmp_path / "joined.mp4", 6.6)
    shared = shared_footage(fingerprint(media(AOC)), fingerprint(joined))
    assert shared is not None and shared.duration_s == pytest.approx(6.6, abs=0.3)
    assert shared.start_a_s == pytest.approx(0.0, abs=0.1) and shared.start_b_s == pytest.approx(0.0, abs=0.1)
    second = shared_footage(fingerprint(joined), fingerprint(media(KH), gain=0.3))  # quieter: still the same sound
    assert second is not None and second.start_a_s == pytest.approx(6.6, abs=0.1)
    assert second.duration_s == pytest.approx(8.0, abs=0.4) and second.bit_error_rate < 0.2


def test_talk3_shares_each_recording_it_was_built_from_at_its_place(media):
    talk3 = fingerprint(media("talk3.mp4"))
    for name, start in (("retalk_face1.mp4", 0.0), ("retalk_face2.mp4", 8.1), ("retalk_face3.mp4", 15.1)):
        shared = shared_footage(fingerprint(media(name)), talk3)
        assert shared is not None and shared.start_b_s == pytest.approx(start, abs=0.1), name
        assert shared.duration_s > 4.5


@pytest.mark.parametrize("a, b", [(AOC, KH), ("retalk_face1.mp4", "retalk_face2.mp4"),
                                  ("speech_RD_Radio31_000.wav", "speech_RD_Radio34_002.wav"),
                                  (KH, "speech_RD_Radio31_000.wav"), ("retalk_face2.mp4", KH)])
def test_different_speech_shares_nothing(media, a, b):
    assert shared_footage(fingerprint(media(a)), fingerprint(media(b))) is None


def test_silence_and_a_tone_share_nothing():
    t = np.arange(16000 * 10) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    silence = np.zeros_like(tone)
    assert shared_footage(audio_fingerprint(tone), audio_fingerprint(tone.copy())) is None  # no speech-like detail
    assert shared_footage(audio_fingerprint(silence), audio_fingerprint(silence)) is None
