"""Check a data directory against `data/boundaries/manifest.csv` (presence and SHA-256)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from app.loaders.sources import sha256
from app.settings import PROJECT_ROOT

MANIFEST = PROJECT_ROOT / "data" / "boundaries" / "manifest.csv"


@dataclass(frozen=True)
class FileCheck:
    path: str
    status: str  # 'ok', 'missing' or 'changed'
    licence: str


def check_data_dir(data_dir: Path, manifest: Path = MANIFEST) -> list[FileCheck]:
    with manifest.open(encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    checks = []
    for row in expected:
        path = data_dir / row["path"]
        if not path.exists():
            status = "missing"
        elif sha256(path) != row["sha256"]:
            status = "changed"
        else:
            status = "ok"
        checks.append(FileCheck(row["path"], status, row["licence"]))
    return checks


def expected_sha256(path: str, manifest: Path = MANIFEST) -> str | None:
    """The manifest's SHA-256 of a file (relative to the data directory), if listed."""
    with manifest.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["path"] == path:
                return row["sha256"]
    return None
