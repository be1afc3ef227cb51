"""Recordings that share footage: each dataset folder keeps its recording's audio fingerprint, comparisons between
folders say what they share, and the split groups such recordings so no footage is in two splits.

``fingerprint.npz`` (codes, loud: pipeline.media.fingerprint) is written beside the manifest when a recording is
planned; a folder made before it existed has none and is compared with nothing (the export says which).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_output
from pipeline.media.fingerprint import SharedFootage, audio_fingerprint, shared_footage

FINGERPRINT = "fingerprint.npz"


def write_fingerprint(root: Path, samples: np.ndarray, rate: int) -> None:
    codes, loud = audio_fingerprint(samples, rate)
    with atomic_output(Path(root) / FINGERPRINT, mode="wb") as fh:
        np.savez_compressed(fh, codes=codes, loud=loud)


def read_fingerprint(root: Path) -> tuple[np.ndarray, np.ndarray] | None:
    path = Path(root) / FINGERPRINT
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz["codes"], np.uint32), np.asarray(npz["loud"], bool)
    except (OSError, ValueError, KeyError):
        return None


def pairs_sharing(fingerprints: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[tuple[str, str, SharedFootage]]:
    """Every pair of keys whose recordings share footage (a before b in key order)."""
    keys = sorted(fingerprints)
    found = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            shared = shared_footage(fingerprints[a], fingerprints[b])
            if shared is not None:
                found.append((a, b, shared))
    return found


def split_groups(keys: Iterable[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> its group (the smallest key of the recordings joined to it by shared footage, directly or not)."""
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in pairs:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {k: root(k) for k in parent}


def grouped_splits(keys: Iterable[str], pairs: Iterable[tuple[str, str]], assign) -> dict[str, str]:
    """Splits of ``keys`` made by ``assign`` (groups -> split) over the groups: recordings sharing footage together."""
    groups = split_groups(keys, pairs)
    by_group = assign(sorted(set(groups.values())))
    return {k: by_group[g] for k, g in groups.items()}
