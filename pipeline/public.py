"""Each pipeline package names what other packages use in its ``__init__`` (PUBLIC: name -> module), loaded on
first use, so importing a package loads none of its modules (MediaPipe, PyAV, numpy stay unloaded)."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_names(package: str, public: dict[str, str]) -> Callable[[str], object]:
    """The package's module ``__getattr__``: a public name from its module, anything else AttributeError."""
    def __getattr__(name: str):
        if name in public:
            return getattr(import_module(f"{package}.{public[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
