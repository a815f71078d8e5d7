"""Headless PyQGIS (Debian's python3-qgis) for the GIS tests: a script run by the system
Python, which holds QGIS's bindings (the project's virtualenv does not)."""

from __future__ import annotations

import json
import os
import subprocess

from tests.debian import TEST_PACKAGES, ensure_packages

PYTHON = "/usr/bin/python3"
PREAMBLE = """
import json, sys
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
"""


def _has_qgis() -> bool:
    if not os.path.exists(PYTHON):
        return False
    done = subprocess.run([PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=120)
    return done.returncode == 0


def run(script: str, *args: str) -> dict:
    """Run `script` after QGIS is up (`app`, `sys.argv` set); it prints one JSON line."""
    ensure_packages(TEST_PACKAGES["tests/qgis.py"], _has_qgis)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [PYTHON, "-c", PREAMBLE + script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
