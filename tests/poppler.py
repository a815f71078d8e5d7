"""Debian's poppler-utils (pdftotext, pdftoppm) for the report tests, installed with
apt-get when missing and running as root (as tests/chromium.py does for Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.debian import TEST_PACKAGES

PACKAGES = TEST_PACKAGES["tests/poppler.py"]


def ensure_poppler() -> None:
    if shutil.which("pdftotext") and shutil.which("pdftoppm"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("the report tests need pdftotext: apt-get install poppler-utils")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=env)
    if not shutil.which("pdftotext"):
        raise RuntimeError(f"installed {PACKAGES} but pdftotext is missing")


def pdf_text(pdf: bytes, folder: Path) -> str:
    """The PDF's text as `pdftotext` extracts it (UTF-8)."""
    ensure_poppler()
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    found = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return found.stdout.decode("utf-8")
