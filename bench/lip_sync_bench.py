"""Lip sync on the shared recordings: what it decides and what it costs.

    .venv/bin/python bench/lip_sync_bench.py [--media ../shared/media]

Prints, for genuine (each face with its own audio), delayed and foreign cases (each face with every other
speaker's audio from many starting points), the verdicts, the confidence and the false-alarm probability; then the
cost of the check per clip-minute on one core (the evidence, the null of the maximum and the verdict; the face
tracking is not counted: the clip worker has it already).  Goal: at most 1 s per clip-minute.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from pipeline.audio.track import decode_audio  # noqa: E402
from pipeline.face.landmarks import FaceLandmarkTracker  # noqa: E402
from pipeline.quality.lip_sync_model import Recording  # noqa: E402
from pipeline.quality.lip_sync_pool import pool_recording  # noqa: E402
from pipeline.quality.lip_sync_training import TRAINING, sync_with_audio, tracked_recording  # noqa: E402

AUDIO_ONLY = ("speech_RD_Radio31_000.wav", "speech_RD_Radio34_002.wav")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--media", default=str(REPO.parent / "shared" / "media"))
    args = parser.parse_args()
    media = Path(args.media)
    faces = [name for name, _ in TRAINING]
    with FaceLandmarkTracker() as tracker:
        recs = {name: tracked_recording(media / name, tracker) for name in faces + ["talk3.mp4"]}
    for name in AUDIO_ONLY:
        audio = decode_audio(media / name)
        recs[name] = Recording(name, np.array([]), np.array([]), np.array([]), audio.samples, audio.start_time_s,
                               audio.sample_rate)
    print("genuine (whole file / its two halves pooled):")
    for face in faces:
        whole = sync_with_audio(recs[face], recs[face])
        end = recs[face].times_s[-1]
        halves = [sync_with_audio(recs[face], recs[face], lo_s=0, hi_s=end / 2),
                  sync_with_audio(recs[face], recs[face], lo_s=end / 2, hi_s=end + 1)]
        pooled, _ = pool_recording([h.as_dict() for h in halves])
        print(f"  {face:42s} {whole.verdict:>18s} z {whole.confidence:5.2f} p {whole.false_alarm_p:.4f} "
              f"peak {whole.best_offset_ms:+5.0f} ms | halves: {pooled['verdict']} z {pooled['confidence']:.2f} "
              f"peak {pooled['best_offset_ms']:+.0f} ms, needs {pooled['needed_s'] or 0:.0f} s")
    print("delayed (AOC, pooled halves' peak minus the undelayed one):")
    face = "hdtf_WDA_AlexandriaOcasioCortez_000.mp4"
    end = recs[face].times_s[-1]

    def pooled_peak(delay: float) -> float:
        halves = [sync_with_audio(recs[face], recs[face], delay_s=delay, lo_s=0, hi_s=end / 2),
                  sync_with_audio(recs[face], recs[face], delay_s=delay, lo_s=end / 2, hi_s=end + 1)]
        return pool_recording([h.as_dict() for h in halves])[0]["best_offset_ms"]

    base = pooled_peak(0.0)
    for delay in (0.12, -0.08, 0.2):
        print(f"  delay {delay * 1000:+4.0f} ms -> peak moved {pooled_peak(delay) - base:+.0f} ms")
    results = collections.defaultdict(list)
    for face in faces:
        for cut in (None, 4.0):
            length = (cut or recs[face].times_s[-1]) + 1.2
            for audio in faces + list(AUDIO_ONLY) + ["talk3.mp4"]:
                if audio == face or (audio.startswith(("retalk", "talk3")) and face.startswith("retalk")):
                    continue
                total = recs[audio].audio.size / recs[audio].sample_rate
                for start in np.arange(0.6, total - length + 0.6, 0.5):
                    r = sync_with_audio(recs[face], recs[audio], float(start), lo_s=None if cut is None else 0.0,
                                        hi_s=cut)
                    results["whole" if cut is None else "4 s"].append(r)
    for label, rs in results.items():
        counts = collections.Counter(r.verdict for r in rs)
        conf = np.array([r.confidence for r in rs])
        p = np.array([r.false_alarm_p for r in rs])
        print(f"foreign, {label}: {len(rs)} pairs {dict(counts)}; confidence mean {conf.mean():+.2f} sd {conf.std():.2f}, "
              f"p<=0.05 in {(p <= 0.05).mean():.1%}")
    clip = recs["talk3.mp4"]
    minutes = (clip.times_s[-1] - clip.times_s[0]) / 60
    repeats = 20
    t = time.perf_counter()
    for _ in range(repeats):
        sync_with_audio(clip, clip)
    per_minute = (time.perf_counter() - t) / repeats / minutes
    print(f"cost: {per_minute:.3f} s per clip-minute on one core (talk3.mp4, {minutes * 60:.1f} s, {repeats} runs)")


if __name__ == "__main__":
    main()
