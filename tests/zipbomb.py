"""Workbooks made on the fly for the upload-limit tests and bench/upload_memory.py (no
binary fixture is committed).

`bomb()` is an XLSX of a few MB whose one sheet inflates to hundreds of MB: the sheet's
XML is repeated rows, deflated once per MB-sized block with a full flush so that the
same compressed block can be repeated, and the zip archive is written by hand around it.
Everything else in it is a real workbook (openpyxl's) in the migrant baseline's layout,
so a reader that trusts it opens it and reads millions of rows.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
    b'<row><c t="inlineStr"><is><t>DTM Libya, migrants baseline (synthetic)</t></is></c></row>'
    b'<row><c t="inlineStr"><is><t>Baladiya PCode</t></is></c><c t="inlineStr"><is>'
    b'<t>AssessmentRound</t></is></c><c t="inlineStr"><is><t>Migrants (IND)</t></is></c></row>'
)
TAIL = b"</sheetData></worksheet>"
ROW = (
    b'<row><c t="inlineStr"><is><t>LY010102</t></is></c><c t="inlineStr"><is><t>R54</t>'
    b"</is></c><c><v>1000</v></c></row>"
)


def _template() -> dict[str, bytes]:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Baladiya Main "
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _deflate_repeated(block_bytes: int, blocks: int) -> tuple[bytes, int, int]:
    """(raw deflate stream, inflated size, CRC-32) of HEAD + ROW... + TAIL."""
    chunk = ROW * (block_bytes // len(ROW))
    start = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = start.compress(HEAD) + start.flush(zlib.Z_FULL_FLUSH)
    one = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = one.compress(chunk) + one.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = end.compress(TAIL) + end.flush()
    crc = zlib.crc32(HEAD)
    for _ in range(blocks):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(TAIL, crc)
    return head + block * blocks + tail, len(HEAD) + len(chunk) * blocks + len(TAIL), crc


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of already deflated members: (name, data, inflated size, crc)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, size, crc in members:
        offset = out.tell()
        encoded = name.encode()
        fields = (20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded + data)
        central.write(
            struct.pack("<IH", 0x02014B50, 20)
            + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, offset)
            + encoded
        )
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    count = len(members)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0))
    return out.getvalue()


def bomb(compressed_bytes: int = 2_300_000) -> bytes:
    """A workbook of about `compressed_bytes` whose sheet inflates some 290 times larger."""
    members = []
    for name, content in _template().items():
        if name == SHEET:
            blocks = max(1, compressed_bytes // 3_650)  # a 1 MB block deflates to ~3.6 KB
            data, size, crc = _deflate_repeated(1 << 20, blocks)
        else:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = packer.compress(content) + packer.flush()
            size, crc = len(content), zlib.crc32(content)
        members.append((name, data, size, crc))
    return _zip(members)


def workbook(rows: int, columns: int = 3, dimension: str | None = None) -> bytes:
    """A small real workbook of `rows` x `columns` cells in the migrant baseline's first
    sheet; `dimension` overrides the extent its sheet declares."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Baladiya Main "
    sheet.append(["synthetic"])
    sheet.append(["Baladiya PCode", "AssessmentRound", "Migrants (IND)"])
    for n in range(rows):
        sheet.append(["LY010102", None, n][:columns] + [1] * max(0, columns - 3))
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if dimension is None:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                content = source.read(item)
                if item.filename == SHEET:
                    start = content.index(b"<dimension")
                    end = content.index(b"/>", start) + 2
                    declared = f'<dimension ref="{dimension}"/>'.encode()
                    content = content[:start] + declared + content[end:]
                target.writestr(item.filename, content)
    return out.getvalue()
