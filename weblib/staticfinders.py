"""Serve plotly.js from the installed plotly package as static/vendor/plotly.min.js.

One copy, the same version the Python side uses, collected by collectstatic and served by whitenoise:
no CDN and no 4 MB vendored file in git.
"""
from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"
FILE = "plotly.min.js"


def _package_dir() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(_package_dir()))
        self.storage.prefix = PREFIX  # collectstatic puts the file under vendor/

    def check(self, **kwargs) -> list:
        from django.core.checks import Error

        if not (_package_dir() / FILE).is_file():
            return [Error(f"{FILE} is missing from the plotly package at {_package_dir()}", id="catalog.E001")]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        find_all = find_all or kwargs.get("all", False)
        if path == f"{PREFIX}/{FILE}":
            match = str(_package_dir() / FILE)
            return [match] if find_all else match
        return [] if find_all else None

    def list(self, ignore_patterns):
        yield FILE, self.storage


def plotly_version() -> str:
    import plotly

    return plotly.__version__


def long_cache_for_vendor(headers, path: str, url: str) -> None:
    """whitenoise's header hook: plotly.js is asked for with its version in the query (``plotly_js`` tag), so
    a browser keeps it a year and parses a cached copy on every later page; a new plotly is a new URL."""
    if url.endswith(f"/{PREFIX}/{FILE}"):
        headers["Cache-Control"] = "public, max-age=31536000, immutable"
