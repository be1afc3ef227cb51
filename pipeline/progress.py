"""A minimal progress interface so library stages never depend on a UI."""
from __future__ import annotations

from typing import Protocol


class ProgressBar(Protocol):
    def update(self, n: float = 1) -> None: ...
    def close(self) -> None: ...


class ProgressFactory(Protocol):
    def __call__(self, stage: str, total: float | None, unit: str) -> ProgressBar: ...


class _Silent:
    def update(self, n: float = 1) -> None:
        pass

    def close(self) -> None:
        pass


def silent(stage: str, total: float | None, unit: str) -> ProgressBar:
    return _Silent()
