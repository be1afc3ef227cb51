"""Issue #23: the apps' layering is a contract (.importlinter) that the build checks: this proves the check
passes on the tree as it is and fails when one module imports upwards."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dataset_site", "dashboard", "reports", "exports", "uploads", "jobs", "catalog", "accounts", "weblib",
            "pipeline")
LINT = Path(sys.executable).parent / "lint-imports"


def source_copy(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=lambda d, names: [
            n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir()])
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")
    return target


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


def test_the_layers_hold_and_an_upward_import_breaks_them(tmp_path):
    tree = source_copy(tmp_path / "ok")
    kept = lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 2 kept, 0 broken." in kept.stdout
    bad = source_copy(tmp_path / "bad")
    models = bad / "catalog" / "models.py"
    models.write_text(models.read_text() + "\n\ndef _upward():\n    from dashboard import videos  # noqa\n")
    broken = lint(bad)
    assert broken.returncode != 0
    assert "catalog is not allowed to import dashboard" in broken.stdout
    framework = bad / "pipeline" / "runs.py"
    framework.write_text(framework.read_text() + "\nimport django  # noqa\n")
    assert "pipeline.runs -> django" in lint(bad).stdout


def test_every_public_name_of_a_pipeline_package_resolves_and_importing_one_loads_nothing_heavy():
    import importlib

    code = ("import sys, importlib\n"
            "for p in ('media', 'face', 'audio', 'quality', 'dataset', 'training'):\n"
            "    importlib.import_module('pipeline.' + p)\n"
            "print(sorted(m for m in ('mediapipe', 'av', 'django', 'librosa') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    for package in ("media", "face", "audio", "quality", "dataset", "training"):
        module = importlib.import_module(f"pipeline.{package}")
        for name in module.PUBLIC:
            assert getattr(module, name) is getattr(importlib.import_module(
                f"pipeline.{package}.{module.PUBLIC[name]}"), name), (package, name)
