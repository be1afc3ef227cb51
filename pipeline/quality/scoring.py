"""The 0-100 quality score from a clip's stored QC values, its weights, and the reasons in words.

The score is computed from stored values only (the metadata's ``quality``
dict, which the catalog keeps too), so a dataset can be re-scored with other
weights in seconds without touching the video.  Each score component maps
stored values to 0..1 (1 = good); the score is 100 x the weighted mean of the
components that could be measured.

Default weighting (``default`` preset), and why:

- lip_sync 25: audio that does not belong to the face is useless for
  audio-to-face training and cannot be repaired;
- valid_rate 20: frames without a usable face are lost training frames;
- tracking 15: jitter is noise in the training target;
- face_speaking 15: a face that does not articulate over speech teaches the
  model to ignore the audio;
- range_validity 5, face_size 5, sharpness 5, single_face 5, frontal 3,
  exposure 2: picture conditions that degrade tracking or signal another
  person in shot.

Gates (issue #20): a clip whose audio does not match its face (lip-sync verdict ``mismatch``), or whose face
does not articulate over speech (``face_speaking`` false), is useless for audio-to-face training whatever its
other components -- a model trained on it learns to ignore the audio -- so its score is capped at GATE_CAP (20),
below the default threshold of 60 and below every usable clip.  A gate applies while its component has a
weight: a lab that weighs lip sync 0 says it does not judge by it.

The seed's formula stays available as the ``seed`` preset (0.4 valid-frame
rate + 0.4 smoothness + 0.2 range validity) for comparison.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping

# Scales measured on the shared talking-head recordings (README, "QC"): where each component reaches 1.
JITTER_SCALE = 0.004  # jitter (blendshape units) at which tracking goodness is 1/e
GOOD_INTEROCULAR_PX = 60.0  # faces at least this large (outer eye corners) count as fully usable
SMALL_INTEROCULAR_PX = 40.0  # "face small" below this
GOOD_SHARPNESS = 100.0  # Laplacian variance of the 128 px face crop
BLURRY_SHARPNESS = 30.0
FRONTAL_YAW, PROFILE_YAW = 30.0, 60.0  # degrees: full marks up to the first, none from the second
FRONTAL_PITCH, STEEP_PITCH = 20.0, 40.0
DARK, BRIGHT = 50.0, 215.0  # face luma outside this is under/over-exposed
GOOD_LIP_SYNC_CONFIDENCE = 6.0

ScoreComponent = Callable[[Mapping], "float | None"]


def _ramp(value: float, bad: float, good: float) -> float:
    """0 at ``bad``, 1 at ``good``, linear between (either direction)."""
    t = (value - bad) / (good - bad)
    return max(0.0, min(1.0, t))


def _get(q: Mapping, name: str) -> float | None:
    value = q.get(name)
    return None if value is None else float(value)


def c_valid_rate(q: Mapping) -> float | None:
    return _get(q, "valid_rate")


def c_smoothness(q: Mapping) -> float | None:
    return _get(q, "smoothness")


def c_range_validity(q: Mapping) -> float | None:
    return _get(q, "range_validity")


def c_tracking(q: Mapping) -> float | None:
    jitter = _get(q, "jitter")
    if jitter is None:
        return None
    return math.exp(-jitter / JITTER_SCALE)


def c_lip_sync(q: Mapping) -> float | None:
    verdict = q.get("lip_sync_verdict")
    confidence = _get(q, "lip_sync_confidence")
    if verdict is None:
        return None
    if verdict == "mismatch":
        return 0.0
    strength = _ramp(confidence or 0.0, 0.0, GOOD_LIP_SYNC_CONFIDENCE)
    return {"in_sync": 1.0, "offset": 0.5, "no_reliable_offset": 0.5, "too_short": 0.5}.get(verdict, 0.5) * (0.5 + 0.5 * strength)


def c_face_speaking(q: Mapping) -> float | None:
    speaking = q.get("face_speaking")
    return None if speaking is None else float(bool(speaking))


def c_face_size(q: Mapping) -> float | None:
    size = _get(q, "interocular_px")
    return None if size is None else _ramp(size, 0.5 * SMALL_INTEROCULAR_PX, GOOD_INTEROCULAR_PX)


def c_sharpness(q: Mapping) -> float | None:
    value = _get(q, "sharpness")
    return None if value is None else _ramp(value, 0.5 * BLURRY_SHARPNESS, GOOD_SHARPNESS)


def c_single_face(q: Mapping) -> float | None:
    rate = _get(q, "multi_face_rate")
    return None if rate is None else 1.0 - rate


def c_frontal(q: Mapping) -> float | None:
    yaw, pitch = _get(q, "yaw_max_abs"), _get(q, "pitch_max_abs")
    if yaw is None or pitch is None:
        return None
    return min(_ramp(yaw, PROFILE_YAW, FRONTAL_YAW), _ramp(pitch, STEEP_PITCH, FRONTAL_PITCH))


def c_exposure(q: Mapping) -> float | None:
    value = _get(q, "brightness")
    if value is None:
        return None
    return min(_ramp(value, 0.5 * DARK, DARK), _ramp(value, 255.0 - 0.5 * (255.0 - BRIGHT), BRIGHT))


COMPONENTS: dict[str, ScoreComponent] = {
    "valid_rate": c_valid_rate, "tracking": c_tracking, "range_validity": c_range_validity, "lip_sync": c_lip_sync,
    "face_speaking": c_face_speaking, "face_size": c_face_size, "sharpness": c_sharpness,
    "single_face": c_single_face, "frontal": c_frontal, "exposure": c_exposure, "smoothness": c_smoothness,
}

PRESETS: dict[str, dict[str, float]] = {
    "default": {"lip_sync": 25, "valid_rate": 20, "tracking": 15, "face_speaking": 15, "range_validity": 5,
                "face_size": 5, "sharpness": 5, "single_face": 5, "frontal": 3, "exposure": 2},
    "seed": {"valid_rate": 40, "smoothness": 40, "range_validity": 20},
}
DEFAULT_WEIGHTS = PRESETS["default"]


MAX_WEIGHT = 100.0  # weights are relative: 0-100 says everything, and keeps every sum finite


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Known components with weights from 0 to MAX_WEIGHT, at least one positive; ValueError otherwise."""
    clean: dict[str, float] = {}
    for name, weight in weights.items():
        if name not in COMPONENTS:
            raise ValueError(f"unknown score component {name!r}; known: {', '.join(COMPONENTS)}")
        weight = float(weight)
        if not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
            raise ValueError(f"the weight of {name} must be a number from 0 to {MAX_WEIGHT:g}")
        clean[name] = weight
    if not any(w > 0 for w in clean.values()):
        raise ValueError("at least one weight must be above 0")
    return clean


GATE_CAP = 20.0
GATES: dict[str, Callable[[Mapping], bool]] = {  # component -> does the clip fail it outright?
    "lip_sync": lambda q: q.get("lip_sync_verdict") == "mismatch",
    "face_speaking": lambda q: q.get("face_speaking") is False,
}


def gated(quality: Mapping, weights: Mapping[str, float] | None = None) -> list[str]:
    """The gates the clip fails (components with a weight whose failure makes it unusable for training)."""
    weights = DEFAULT_WEIGHTS if weights is None else weights
    return [name for name, fails in GATES.items()
            if fails(quality) and math.isfinite(weights.get(name, 0.0)) and weights.get(name, 0.0) > 0]


def score(quality: Mapping, weights: Mapping[str, float] | None = None) -> float:
    """100 x the weighted mean of the components that could be measured (0 when none could), at most GATE_CAP
    when the clip fails a gate."""
    weights = DEFAULT_WEIGHTS if weights is None else weights
    top = max((w for w in weights.values() if math.isfinite(w)), default=0.0)
    total = weighted = 0.0
    for name, weight in weights.items():
        if not math.isfinite(weight) or weight <= 0:
            continue
        weight /= top  # relative weights: a stored weight however large cannot overflow the sums
        value = COMPONENTS[name](quality)
        if value is None:
            continue
        total += weight
        weighted += weight * value
    result = 100.0 * weighted / total if total else 0.0
    if gated(quality, weights):
        result = min(result, GATE_CAP)
    return round(result, 2) if math.isfinite(result) else 0.0


def reasons(quality: Mapping) -> list[str]:
    """Why a clip loses points, in words, worst first."""
    out: list[str] = []
    verdict = quality.get("lip_sync_verdict")
    if gated(quality):
        out.append(f"score capped at {GATE_CAP:g}: unusable for audio-to-face training")
    if verdict == "mismatch":
        out.append("audio does not match the face")
    elif verdict == "offset":
        out.append(f"audio offset by {quality.get('lip_sync_offset_ms'):+.0f} ms from the mouth")
    elif verdict == "no_reliable_offset":
        out.append("no reliable lip-sync offset")
    if quality.get("face_speaking") is False:
        out.append("face not speaking during speech")
    valid = _get(quality, "valid_rate")
    if valid is not None and valid < 0.9:
        out.append(f"no usable face in {100 * (1 - valid):.0f}% of frames")
    size = _get(quality, "interocular_px")
    if size is not None and size < SMALL_INTEROCULAR_PX:
        out.append(f"face small: {size:.0f} px between the eyes")
    jump = _get(quality, "face_jump_s")
    if jump is not None:
        out.append(f"a different face from {jump:.1f} s (the face jumps within the shot)")
    faces = _get(quality, "multi_face_rate")
    if faces:
        out.append(f"second face in frame ({100 * faces:.0f}% of sampled frames)")
    sharp = _get(quality, "sharpness")
    if sharp is not None and sharp < BLURRY_SHARPNESS:
        out.append(f"blurry face (sharpness {sharp:.0f})")
    jitter = _get(quality, "jitter")
    if jitter is not None and jitter > 2 * JITTER_SCALE:
        out.append(f"jittery tracking ({jitter:.4f})")
    yaw = _get(quality, "yaw_max_abs")
    if yaw is not None and yaw > FRONTAL_YAW:
        out.append(f"head turned up to {yaw:.0f}° (yaw)")
    pitch = _get(quality, "pitch_max_abs")
    if pitch is not None and pitch > FRONTAL_PITCH:
        out.append(f"head tilted up to {pitch:.0f}° (pitch)")
    light = _get(quality, "brightness")
    if light is not None and light < DARK:
        out.append(f"face dark (brightness {light:.0f})")
    elif light is not None and light > BRIGHT:
        out.append(f"face over-exposed (brightness {light:.0f})")
    return out
