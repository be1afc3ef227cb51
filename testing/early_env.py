"""Loaded with ``-p testing.early_env`` before pytest-django imports the settings.

Tests get their own throwaway DATA_DIR (database, cache, uploads), never the
developer's ./var.
"""
import os
import tempfile

os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="dataset-test-data-")
