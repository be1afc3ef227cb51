"""A baseline audio-to-expression model: ridge regression from a window of audio features to the blendshapes.

It is a dataset metric, not a product model: small, fast (one linear solve), deterministic, trained on
the training videos of a selection and scored on held-out videos, so two selections of one dataset
(all clips, score >= 80) can be compared on the same held-out frames.  A model can be saved (weights
plus the exact feature configuration) and applied to a new audio file to get a blendshape CSV in the
``extract`` layout.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pipeline.face.blendshape_names import HEAD_POSE_NAMES, MEDIAPIPE_NAMES

# The blendshapes a lip-sync model lives or dies by.
HIGHLIGHT = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft", "mouthSmileRight")


@dataclass
class BaselineConfig:
    features: tuple[str, ...] = ("mel",)
    context: int = 5  # frames of audio either side of the predicted frame
    alpha: float = 3.0  # ridge penalty per sample, on standardised inputs (chosen on the shared recordings)
    targets: tuple[str, ...] = MEDIAPIPE_NAMES


@dataclass
class BaselineModel:
    config: BaselineConfig
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (inputs, targets)
    bias: np.ndarray  # (targets,)
    feature_params: dict | None = None  # how the training audio features were computed (export.json)
    trained_on: dict = field(default_factory=dict)  # frames, clips, videos

    def predict(self, x: np.ndarray) -> np.ndarray:
        y = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return np.clip(y, 0.0, 1.0).astype(np.float32)  # blendshape coefficients live in [0, 1]


def fit(x: np.ndarray, y: np.ndarray, config: BaselineConfig, **extra) -> BaselineModel:
    """Closed-form ridge regression (deterministic: same data, same model)."""
    if x.shape[0] < 2:
        raise ValueError("too few usable training frames to fit a model")
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    mean = x64.mean(axis=0)
    scale = x64.std(axis=0)
    scale[scale < 1e-8] = 1.0
    z = (x64 - mean) / scale
    y_mean = y64.mean(axis=0)
    n = z.shape[0]
    gram = z.T @ z / n + config.alpha * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ (y64 - y_mean) / n)
    return BaselineModel(config, mean.astype(np.float32), scale.astype(np.float32), weights.astype(np.float32),
                         y_mean.astype(np.float32), **extra)


def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 1e-12 else None


def evaluate(model: BaselineModel, x: np.ndarray, y: np.ndarray) -> dict:
    """Per-blendshape correlation and mean absolute error on held-out frames, with the lip-sync ones pulled out."""
    if x.shape[0] == 0:
        raise ValueError("no usable held-out frames to evaluate on")
    predicted = model.predict(x)
    per = {}
    for j, name in enumerate(model.config.targets):
        r = pearson(predicted[:, j].astype(np.float64), y[:, j].astype(np.float64))
        per[name] = {"r": None if r is None else round(r, 4),
                     "mae": round(float(np.abs(predicted[:, j] - y[:, j]).mean()), 5)}
    rs = [v["r"] for v in per.values() if v["r"] is not None]
    return {"frames": int(x.shape[0]), "mean_r": round(float(np.mean(rs)), 4) if rs else None,
            "mean_mae": round(float(np.mean([v["mae"] for v in per.values()])), 5),
            "highlight": {name: per[name] for name in HIGHLIGHT if name in per}, "per_blendshape": per}


def save(model: BaselineModel, path: str | Path) -> Path:
    """One .npz: the weights and, as JSON, the configuration and the audio feature parameters."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    describe = {"config": {**asdict(model.config), "features": list(model.config.features),
                           "targets": list(model.config.targets)},
                "feature_params": model.feature_params, "trained_on": model.trained_on,
                "model": "ridge regression, standardised inputs: y = ((x - mean) / scale) @ weights + bias, "
                         "clipped to [0, 1]; x = the features of frames t-context..t+context, concatenated"}
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(temp, mean=model.mean, scale=model.scale, weights=model.weights, bias=model.bias,
                 describe=np.array(json.dumps(describe, default=str)))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path) -> BaselineModel:
    with np.load(path, allow_pickle=False) as npz:
        describe = json.loads(str(npz["describe"]))
        c = describe["config"]
        config = BaselineConfig(features=tuple(c["features"]), context=int(c["context"]), alpha=float(c["alpha"]),
                                targets=tuple(c["targets"]))
        return BaselineModel(config, npz["mean"], npz["scale"], npz["weights"], npz["bias"],
                             describe.get("feature_params"), describe.get("trained_on") or {})


def audio_features_for(model: BaselineModel, audio_path: str | Path, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame times at ``fps`` over the whole file, and the model's input rows for them."""
    from pipeline.audio.track import SAMPLE_RATE, decode_audio
    from pipeline.audio.features import FeatureParams, compute_features
    from pipeline.training.training_data import context_stack

    params = FeatureParams()
    recorded = model.feature_params or {}
    for key in ("n_mels", "n_mfcc", "fmin", "fmax", "f0_method", "f0_period_ms", "dio_speed", "f0_floor", "f0_ceil",
                "window_frames"):
        if key in recorded:
            setattr(params, key, recorded[key])
    track = decode_audio(audio_path, recorded.get("sample_rate", SAMPLE_RATE))
    times = np.arange(0.0, track.duration_s, 1.0 / fps)
    features = compute_features(track.samples, track.sample_rate, times, names=model.config.features, params=params)
    x = np.concatenate([np.asarray(features[name], np.float32).reshape(times.size, -1)
                        for name in model.config.features], axis=1)
    return times, context_stack(x, np.zeros(times.size, np.int64), model.config.context)


def write_extract_csv(path: str | Path, times: np.ndarray, values: np.ndarray, names: tuple[str, ...]) -> Path:
    """The ``extract`` CSV layout: frame, time_s, face, the 52 blendshapes, head pose (empty: not predicted)."""
    path = Path(path)
    by_name = {name: values[:, j] for j, name in enumerate(names)}
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(["frame", "time_s", "face", *MEDIAPIPE_NAMES, *HEAD_POSE_NAMES]) + "\n")
            for i, t in enumerate(times):
                cells = [f"{by_name[n][i]:.6f}" if n in by_name else "0.000000" for n in MEDIAPIPE_NAMES]
                fh.write(",".join([str(i), f"{t:.6f}", "1", *cells, "", "", ""]) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def train_on_export(export, config: BaselineConfig | None = None) -> tuple[BaselineModel, dict]:
    """Fit on the export's training videos, score on its test videos: (model, held-out metrics)."""
    from pipeline.training.training_data import FrameWindows

    config = config or BaselineConfig()
    options = {"context": config.context, "features": config.features, "targets": config.targets}
    x, y = FrameWindows(export, "train", **options).stacked()
    x_test, y_test = FrameWindows(export, "test", **options).stacked()
    videos = export.info.get("split", {}).get("videos", {})
    model = fit(x, y, config, feature_params=export.info.get("feature_params"),
                trained_on={"frames": int(x.shape[0]), "videos": videos.get("train", []),
                            "held_out_videos": videos.get("test", []),
                            "export_sha256": export.info.get("content_sha256")})
    metrics = evaluate(model, x_test, y_test)
    metrics["train_frames"] = int(x.shape[0])
    return model, metrics
