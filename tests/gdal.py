"""GDAL's command-line tools (Debian's `gdal-bin`: GDAL 3.6 on Debian 12, as QGIS there
uses it), installed with apt-get when missing and running as root, as tests/chromium.py
does for the browser."""

from __future__ import annotations

import os
import shutil
import subprocess


def ensure_ogrinfo() -> str:
    """The `ogrinfo` binary, installing `gdal-bin` first when missing (as root)."""
    found = shutil.which("ogrinfo")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("the GeoPackage test needs ogrinfo: apt-get install gdal-bin (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "gdal-bin"], check=True, env=env)
    found = shutil.which("ogrinfo")
    if not found:
        raise RuntimeError("installed gdal-bin but ogrinfo is missing")
    return found
