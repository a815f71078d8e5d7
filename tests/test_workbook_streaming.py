"""Workbooks are read row by row: rows come lazily, numbered as the spreadsheet shows them."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openpyxl
import pytest

from app.ingest import parse
from app.loaders import dtm_r54


def workbook(*rows_of_sheets: tuple[str, list]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    for title, rows in rows_of_sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_rows_come_lazily_with_their_spreadsheet_row_numbers():
    data = workbook(
        (
            dtm_r54.BALADIYA_SHEET,
            [
                ["DTM Libya migrant baseline (test)"],
                ["Baladiya PCode", "Migrants (IND)", "AssessmentRound"],
                ["LY010102", 120, 54],
                [],  # a blank row keeps its place in the numbering
                ["LY010304", "N/A", 54],  # read as missing, as before
            ],
        ),
        (
            dtm_r54.NATIONALITY_SHEET,
            [
                ["Muhalla P Code", "Migrant Nationality", "Migrant Individuals"],
                ["LY01010201", "Egypt", 70],
                ["LY01010202", "Egypt", 5],
                ["LY01030401", "SouthSudan", 80],
            ],
        ),
    )
    datasets = parse.xlsx_datasets(data)
    assert isinstance(datasets["observations"], Iterator)
    observations = [(r["line"], r["pcode"], r["individuals"]) for r in datasets["observations"]]
    assert observations == [(3, "LY010102", "120"), (5, "LY010304", "")]
    nationalities = [
        (r["pcode"], r["nationality"], r["individuals"]) for r in datasets["nationalities"]
    ]
    assert nationalities == [("LY010102", "Egypt", "75"), ("LY010304", "South Sudan", "80")]


def test_a_missing_column_is_refused_before_any_row_is_read():
    data = workbook((dtm_r54.BALADIYA_SHEET, [["title"], ["Baladiya PCode", "Migrants"]]))
    with pytest.raises(parse.LayoutError, match="expected a column 'Migrants \\(IND\\)' on row 2"):
        parse.xlsx_datasets(data)
