"""Reading tabular source files with clear, located errors (file, row, field)."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.dates import parse_date
from app.errors import LoadError

if TYPE_CHECKING:  # pandas loads when a CSV is read, not with the API's modules
    import pandas as pd


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def label(path: Path, data_dir: Path) -> str:
    """The file's name as users know it: relative to the data directory when inside it."""
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def read_csv(path: Path, name: str, required: list[str]) -> pd.DataFrame:
    """A CSV as strings (no type guessing), with an HXL tag row dropped if present."""
    if not path.exists():
        raise LoadError(name, "file not found in the data directory")
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise LoadError(name, f"not a readable UTF-8 CSV file ({exc.__class__.__name__})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise LoadError(name, f"expected column(s) {', '.join(missing)}", field=missing[0])
    if len(frame) and str(frame.iloc[0, 0]).startswith("#"):
        frame = frame.iloc[1:]
        frame.attrs["first_line"] = 3
    return frame


def first_line(frame: pd.DataFrame) -> int:
    """File line of the frame's first data row (the header is line 1)."""
    return frame.attrs.get("first_line", 2)


def count(value, name: str, row: int, field: str, optional: bool = False) -> int | None:
    """A non-negative whole number of people, households..., or a located error."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    text = text.strip().replace(",", "")
    if text == "":
        if optional:
            return None
        raise LoadError(name, "value is empty, expected a whole number", row=row, field=field)
    try:
        number = float(text)
    except ValueError:
        raise LoadError(name, f"'{value}' is not a number", row=row, field=field) from None
    if number < 0 or number != int(number):
        raise LoadError(name, f"{value} is not a non-negative whole number", row=row, field=field)
    return int(number)


def iso_date(value: str, name: str, row: int, field: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise LoadError(
            name, f"'{value}' is not a date (YYYY-MM-DD)", row=row, field=field
        ) from None
