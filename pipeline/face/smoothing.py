"""Causal per-frame smoothing of coefficient vectors.

Filters run frame by frame (so extraction stays streaming) and restart at
every frame with no face: a value is never smoothed towards a face that was
seen before a gap.  Time steps come from the frames' PTS, so the One Euro
filter behaves the same on variable-frame-rate video.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


class Smoother:
    """Identity filter; subclasses keep state between faced frames."""

    name = "none"

    def reset(self) -> None:
        """Forget the past (called on every frame without a face)."""

    def __call__(self, values: np.ndarray, time_s: float) -> np.ndarray:
        return values


class EmaSmoother(Smoother):
    """Exponential moving average, y = a*x + (1-a)*y_prev (the original tool's filter)."""

    name = "ema"

    def __init__(self, alpha: float = 0.5) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError("EMA alpha must be in (0, 1]")
        self.alpha = alpha
        self._state: np.ndarray | None = None

    def reset(self) -> None:
        self._state = None

    def __call__(self, values: np.ndarray, time_s: float) -> np.ndarray:
        values = values.astype(np.float64)
        if self._state is None:
            self._state = values
        else:
            self._state = self.alpha * values + (1.0 - self.alpha) * self._state
        return self._state.copy()


class OneEuroSmoother(Smoother):
    """One Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorised.

    Low jitter when coefficients hold still, little lag when they move fast:
    the cutoff rises with the filtered speed, fc = min_cutoff + beta*|dx|.
    """

    name = "oneeuro"

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.3, d_cutoff: float = 1.0) -> None:
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, values: np.ndarray, time_s: float) -> np.ndarray:
        x = values.astype(np.float64)
        if self._x is None or self._t is None or time_s <= self._t:
            self._x, self._dx, self._t = x, np.zeros_like(x), time_s
            return x.copy()
        dt = time_s - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1.0 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1.0 - a) * self._x
        self._t = time_s
        return self._x.copy()


SMOOTHERS: dict[str, Callable[[], Smoother]] = {
    "none": Smoother,
    "ema": EmaSmoother,
    "oneeuro": OneEuroSmoother,
}
# Older scripts pass --smooth yes|no; "yes" meant the original tool's EMA.
SMOOTH_ALIASES = {"yes": "ema", "no": "none", "true": "ema", "false": "none", "one_euro": "oneeuro"}


def make_smoother(kind: str) -> Smoother:
    key = SMOOTH_ALIASES.get(kind.lower(), kind.lower())
    if key not in SMOOTHERS:
        raise ValueError(f"unknown smoothing {kind!r}; choose one of {', '.join(SMOOTHERS)} (or yes/no)")
    return SMOOTHERS[key]()
