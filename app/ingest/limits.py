"""Bounds a workbook must keep before it is parsed (a zip bomb is refused unread).

An XLSX is a zip archive. Its central directory declares each member's uncompressed
size, and Python's zipfile never inflates a member beyond what it declares, so the sizes
are checked there first: each member, all of them together, and the compression ratio
(a 2.3 MB upload whose sheet inflates to gigabytes has a ratio near 1,000; real sheets
have 5-30). Then each worksheet's XML is streamed once, in 1 MB pieces, counting its
rows and the cells of each row, so that neither a declared `<dimension>` nor a single
row of millions of cells can make openpyxl build more than the limits allow. Every
refusal is a 413 naming the setting (README, "Upload limits").
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from app.errors import PayloadTooLarge

CHUNK = 1 << 20
MIN_RATIO_BYTES = 1 << 20  # the ratio of a member smaller than this is not judged
# A row or cell element, with or without a namespace prefix (<row ...>, <x:c ...>).
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)[\s/>]")
_DIMENSION = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([A-Z]+)?(\d+)?:?([A-Z]+)?(\d+)?"'
)
_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.I)


@dataclass(frozen=True)
class WorkbookLimits:
    member_bytes: int
    total_bytes: int
    ratio: float
    rows: int
    columns: int

    @classmethod
    def from_settings(cls, settings) -> WorkbookLimits:
        return cls(
            member_bytes=settings.xlsx_max_member_bytes,
            total_bytes=settings.xlsx_max_total_bytes,
            ratio=settings.xlsx_max_ratio,
            rows=settings.xlsx_max_rows,
            columns=settings.xlsx_max_columns,
        )


class WorkbookTooLarge(PayloadTooLarge):
    """A workbook beyond one of the limits; the message names the setting."""


def check_workbook(data: bytes, limits: WorkbookLimits) -> None:
    """Refuse (WorkbookTooLarge) a workbook beyond `limits`; leave a file that is not a
    zip archive to the reader, which says it is no workbook."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        members = archive.infolist()
        total = 0
        for member in members:
            total += member.file_size
            if member.file_size > limits.member_bytes:
                raise WorkbookTooLarge(
                    f"workbook member '{member.filename}' inflates to {member.file_size:,} "
                    f"bytes; at most {limits.member_bytes:,} are accepted "
                    "(XLSX_MAX_MEMBER_BYTES)"
                )
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size >= MIN_RATIO_BYTES and ratio > limits.ratio:
                raise WorkbookTooLarge(
                    f"workbook member '{member.filename}' is compressed {ratio:,.0f} to 1; "
                    f"at most {limits.ratio:g} to 1 is accepted (XLSX_MAX_RATIO)"
                )
        if total > limits.total_bytes:
            raise WorkbookTooLarge(
                f"the workbook inflates to {total:,} bytes; at most {limits.total_bytes:,} "
                "are accepted (XLSX_MAX_TOTAL_BYTES)"
            )
        for member in members:
            if _SHEET.match(member.filename):
                _check_sheet(archive, member, limits)


def _column_number(letters: bytes | None) -> int:
    number = 0
    for letter in letters or b"":
        number = number * 26 + letter - 64
    return number


def _too_many_rows(name: str, rows: int, limits: WorkbookLimits) -> WorkbookTooLarge:
    return WorkbookTooLarge(
        f"sheet file '{name}' has {rows:,} rows or more; at most {limits.rows:,} are "
        "accepted (XLSX_MAX_ROWS)"
    )


def _too_many_columns(name: str, cells: int, limits: WorkbookLimits) -> WorkbookTooLarge:
    return WorkbookTooLarge(
        f"sheet file '{name}' has a row of {cells:,} cells or more; at most "
        f"{limits.columns:,} columns are accepted (XLSX_MAX_COLUMNS)"
    )


def _check_sheet(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits) -> None:
    """Rows and cells per row of one worksheet, counted while streaming its XML."""
    name = member.filename
    rows = cells = 0
    tail = b""
    first = True
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            if first:  # the declared extent, refused early when beyond the limits
                first = False
                declared = _DIMENSION.search(chunk)
                if declared:
                    last_column = _column_number(declared.group(3) or declared.group(1))
                    last_row = int(declared.group(4) or declared.group(2) or 0)
                    if last_row > limits.rows:
                        raise _too_many_rows(name, last_row, limits)
                    if last_column > limits.columns:
                        raise _too_many_columns(name, last_column, limits)
            # a tag cut by the chunk's end is matched in the next piece, whole
            piece = tail + chunk
            cut = max(len(piece) - 64, 0)
            cut = piece.rfind(b"<", cut) if piece.rfind(b"<", cut) >= 0 else len(piece)
            for tag in _TAG.finditer(piece, 0, cut):
                if tag.group(1) == b"row":
                    rows += 1
                    cells = 0
                    if rows > limits.rows:
                        raise _too_many_rows(name, rows, limits)
                else:
                    cells += 1
                    if cells > limits.columns:
                        raise _too_many_columns(name, cells, limits)
            tail = piece[cut:]
