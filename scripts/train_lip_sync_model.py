"""Reproduce models/lip_sync_audio_to_mouth.json: the cross-speaker audio-to-mouth model of the lip-sync check.

    .venv/bin/python scripts/train_lip_sync_model.py [--media ../shared/media] [--out models/lip_sync_audio_to_mouth.json]

Trained on the project's public genuine recordings, one speaker each with their own audio
(pipeline.quality.lip_sync_training.TRAINING):
  retalk_face1.mp4, retalk_face2.mp4, retalk_face3.mp4 - video-retalking examples, Apache-2.0
  hdtf_WDA_AlexandriaOcasioCortez_000.mp4, hdtf_WDA_KatieHill_000.mp4 - SadTalker examples (HDTF clips), Apache-2.0
Deterministic for the same files and library versions.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.quality.lip_sync_model import DEFAULT_MODEL_PATH, fit_model  # noqa: E402
from pipeline.quality.lip_sync_training import training_recordings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", default=str(Path(__file__).resolve().parents[2] / "shared" / "media"))
    parser.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    args = parser.parse_args()
    try:
        recs = training_recordings(Path(args.media))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    model = fit_model(recs)
    model.save(args.out)
    for row in model.trained_on:
        print(f"{row['name']}: {row['seconds']} s, offset {row['offset_ms']:+.0f} ms, held-out r {row['held_out_r']}")
    print(f"genuine_r {model.genuine_r:.4f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
