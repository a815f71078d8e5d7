"""The one place where results become bytes: one writer per format.

- JSON: orjson (dates as ISO strings, decimals as numbers), as bytes for the cache
  (`json_body`), as a response (`json_response`) or as the app's default response class.
- GeoJSON (RFC 7946): features assembled from geometries that are already encoded
  (`app.geo.encoded`), so a request joins bytes instead of serialising shapes.
- CSV: one dialect for every CSV the service writes: UTF-8, comma-separated, CRLF line
  ends and minimal quoting (RFC 4180); empty cells for missing values, `true`/`false`
  for booleans and `; ` between the items of a list. An HXL hashtag row may follow the
  header. Downloads start with a byte-order mark so that spreadsheet programs read Arabic
  names right; the flowmap sheets do not, as the JavaScript tools that read them take
  the mark for part of the first column's name.
  A text cell that a spreadsheet would take for a formula (it begins with `=`, `+`, `-`,
  `@`, a tab or a carriage return and is not a number) is prefixed with a single quote,
  as OWASP advises against CSV injection: a poster's `+cmd|' /C calc'!A0` is shown as
  text in Excel, never run. Numbers (-12, -1.5) and the header and HXL rows stay as
  they are.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
import starlette.responses
from starlette.responses import Response

from app.serialize import dumps

JSON = "application/json"
GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"
GPKG = "application/geopackage+sqlite3"


def json_body(content: Any) -> bytes:
    """The one JSON encoding of every answer (app.serialize: orjson)."""
    return dumps(content)


class JSONResponse(starlette.responses.JSONResponse):
    """A response whose content is encoded by `json_body` (the app's default class)."""

    def render(self, content: Any) -> bytes:
        return json_body(content)


def json_response(
    content: Any, status: int = 200, headers: dict | None = None, media_type: str = JSON
) -> Response:
    """A JSON answer sent as it is (not through the response cache)."""
    return Response(json_body(content), status, headers, media_type)


def encoded_array(items: bytes) -> orjson.Fragment:
    """A JSON array of values encoded already (`items`: their JSON, comma-separated), for
    `json_body` to write as it is."""
    return orjson.Fragment(b"[" + items + b"]")


def feature(fid: Any, geometry: bytes | None, properties: dict | bytes | memoryview) -> bytes:
    """One GeoJSON Feature; `geometry` is encoded GeoJSON (or None), `properties` a dict or
    an encoded JSON object."""
    props = properties if isinstance(properties, bytes | memoryview) else dumps(properties)
    return b"".join(
        (
            b'{"type":"Feature","id":',
            dumps(fid),
            b',"geometry":',
            geometry or b"null",
            b',"properties":',
            props,
            b"}",
        )
    )


def feature_collection(features: Iterable[bytes], members: dict | None = None) -> bytes:
    """A FeatureCollection of encoded features, with `members` (links, counts, meta)."""
    head = b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]"
    if members:
        return head + b"," + dumps(members)[1:]
    return head + b"}"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)  # a number, never a formula (-12 stays -12)
    if isinstance(value, list | tuple):
        return neutralise("; ".join(str(v) for v in value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(str(value))


def neutralise(text: str) -> str:
    """`text` as a spreadsheet shows it and never evaluates it (OWASP's CSV injection
    rule): a leading ', when it begins like a formula and is not a number."""
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_body(
    columns: Sequence[str],
    rows: Iterable[dict],
    hxl: dict[str, str] | None = None,
    bom: bool = True,
) -> bytes:
    """CSV of `rows` (dicts) in `columns` order, with an HXL tag row when `hxl` is given."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    if hxl is not None:
        writer.writerow([hxl.get(c, "") for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def geopackage(layers: Sequence, metadata: dict) -> bytes:
    """A GeoPackage of `layers` (app.services.package.Layer), written through GDAL."""
    import pyogrio

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dtm-geo-libya.gpkg"
        for i, layer in enumerate(layers):
            pyogrio.write_dataframe(
                layer.frame,
                path,
                layer=layer.name,
                driver="GPKG",
                append=i > 0,
                geometry_type=layer.geometry_type,
                promote_to_multi=layer.geometry_type.startswith("Multi"),
                layer_options={"IDENTIFIER": layer.title, "DESCRIPTION": layer.description},
                layer_metadata={"round": layer.round or ""},
                dataset_metadata=None if i else metadata,
                # GeoPackage 1.3, which GDAL 3.6 (Debian 12's QGIS) opens without a warning
                dataset_options=None if i else {"VERSION": "1.3"},
            )
        return path.read_bytes()
