"""Debian packages the tests need beside Python's (a browser, QGIS, poppler), installed
with apt-get when missing and running as root, as app/localdb.py does for PostGIS."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable


def ensure_packages(packages: list[str], present: Callable[[], bool]) -> None:
    """Install `packages` unless `present()`; RuntimeError saying how when it cannot."""
    if present():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            f"these tests need Debian's {' '.join(packages)}: apt-get install "
            f"{' '.join(packages)} (as root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
    if not present():
        raise RuntimeError(f"installed {' '.join(packages)}, but they are still missing")
