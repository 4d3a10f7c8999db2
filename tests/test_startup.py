"""The app starts in a fresh interpreter, whatever module is imported first (no import cycles)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import marketplace

ROOT = Path(__file__).resolve().parent.parent
# The modules something might import first: shared helpers, services, models and every views module.
ENTRY_POINTS = ("web", "labels", "models", "media", "regions", "i18n", "forms", "services", "views")
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(marketplace.__path__, "marketplace.")
    if m.name.rsplit(".", 1)[-1] in ENTRY_POINTS
)


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MARKETPLACE_DATABASE_URL=f"sqlite:///{tmp_path / 'start.sqlite3'}")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_create_app_in_a_fresh_interpreter(tmp_path: Path) -> None:
    result = _run("from marketplace import create_app; app = create_app(); print(len(app.url_map._rules))", tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 30


def test_every_module_imports_first(tmp_path: Path) -> None:
    """Import each entry-point module first in its own interpreter, then build the app."""
    assert len(MODULES) >= 15

    def check(name: str) -> tuple[str, str] | None:
        result = _run(f"import {name}; from marketplace import create_app; create_app()", tmp_path)
        return (name, result.stderr.strip().splitlines()[-1]) if result.returncode else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [f for f in pool.map(check, MODULES) if f]
    assert failed == []


@pytest.mark.parametrize("args", [["routes"], ["demo", "--help"], ["db", "--help"]])
def test_the_flask_command_starts(tmp_path: Path, args: list[str]) -> None:
    env = dict(os.environ, FLASK_APP="marketplace", MARKETPLACE_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}")
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
