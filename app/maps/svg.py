"""The static map of a view as SVG, drawn from the same PostGIS geometry and figures as the
web map: a round, an admin level, a population type and a measure, with the web map's
classes, a legend and the attribution.

Two parts, so that other outputs (print maps, round reports) reuse them: `map_view` reads
the view through the statistics read path (one feature per area, its geometry encoded by
PostGIS) and `draw` turns it into SVG. The drawing is deterministic (areas in pcode order,
coordinates rounded to 0.1 px, no timestamps), every text is escaped, and its ids start
with `map-` so that it can sit inside a page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import orjson
import shapely
from shapely.geometry import box, shape
from sqlalchemy.orm import Session

from app.errors import InvalidParameter
from app.geo import encoded
from app.maps.classes import NO_DATA, Classes, quantile_classes
from app.services import areas as areas_service
from app.services import ogc, operations, rounds, stats_views
from app.services.operations import Operation
from app.services.paging import Page
from app.services.stats import StatsFilter
from app.vocabulary import POPULATION_TYPES

WORLD = (-180.0, -85.0, 180.0, 85.0)  # an operation without map bounds shows its areas'
MEASURES = ("absolute", "per_1000")
PLURAL = {"idp": "idps", "returnee": "returnees", "migrant": "migrants"}
SEA, LAND, OUTLINE = "#dfe9f0", "#fbfaf7", "#555555"
FONT = "DejaVu Sans, Noto Sans Arabic, Arial, sans-serif"
# Arabic first in a face that shapes it fully (DejaVu Sans lacks some marks, such as tanwin)
FONT_AR = "Noto Sans Arabic, DejaVu Sans, Arial, sans-serif"
# points: circle radius of the largest value, as on the page (finer levels, smaller)
MAX_RADIUS = {1: 26.0, 2: 26.0, 3: 18.0, 4: 14.0}

LABELS = {
    "en": {
        "idp": "IDPs",
        "returnee": "Returnees",
        "migrant": "Migrants",
        "absolute": "People",
        "per_1000": "Per 1,000 residents",
        "no_data": "No data",
        "published": "Published figures (IOM DTM {operation}).",
        "approximate": "{Name} polygons are approximate (derived, not official boundaries).",
        "points": "{Plural} as official points; circle area by value.",
        "unlocated": "{n} without a published location are not drawn.",
        "title": "{type}, {measure}, {round}: by {level}",
    },
    "ar": {
        "idp": "النازحون داخلياً",
        "returnee": "العائدون",
        "migrant": "المهاجرون",
        "absolute": "عدد الأشخاص",
        "per_1000": "لكل 1000 من السكان",
        "no_data": "لا توجد بيانات",
        "published": "أرقام منشورة (مصفوفة تتبع النزوح، المنظمة الدولية للهجرة - {operation}).",
        "approximate": "حدود ال{plural} تقريبية (مشتقة، وليست حدوداً رسمية).",
        "points": "ال{plural} نقاط رسمية؛ مساحة الدائرة حسب القيمة.",
        "unlocated": "{n} بلا موقع منشور غير مرسومة.",
        "title": "{type}، {measure}، {round}: حسب {level}",
    },
}


@dataclass(frozen=True)
class Area:
    pcode: str
    name_en: str
    name_ar: str
    value: float | None
    geometry: dict | None  # GeoJSON in CRS84, or None where no location is published


@dataclass(frozen=True)
class MapView:
    round_code: str
    round_label: str
    level: int
    approximate: bool
    population_type: str
    measure: str
    areas: list[Area]
    outlines: list[dict]  # level-1 polygons: land and outlines under and over the areas
    classes: Classes
    quality: str
    operation: Operation

    @property
    def points(self) -> bool:
        """Whether the areas are drawn as circles (a level of points, not approximated)."""
        return self.operation.levels[self.level].geometry == "point" and not self.approximate

    def words(self, lang: str) -> dict[str, str]:
        """The labels in `lang`, with the operation's names, level names and credit."""
        op, level = self.operation, self.operation.levels[self.level]
        if lang == "ar":
            names = {"operation": op.name_ar, "level": f"ال{level.name_ar}"}
            names |= {"name": level.name_ar, "plural": level.plural_ar}
            credit = op.map_credit_ar
        else:
            names = {"operation": op.name_en, "level": level.name_en}
            names |= {"name": level.name_en, "plural": level.plural_en}
            credit = op.map_credit_en
        names |= {"Name": names["name"].capitalize(), "Plural": names["plural"].capitalize()}
        words = dict(LABELS["ar" if lang == "ar" else "en"])
        for key in ("published", "approximate", "points"):
            words[key] = words[key].format_map(names)
        return {**words, "attribution": credit, "level": names["level"], "lang": lang}


def check_view(op: Operation, level: int, population_type: str, measure: str) -> None:
    """InvalidParameter unless a map of `op` can show this level, type and measure."""
    if level not in op.levels or level == 0:
        choices = ", ".join(f"{n} ({v.name_en})" for n, v in op.levels.items() if n)
        raise InvalidParameter("level", f"must be one of {op.name_en}'s levels: {choices}")
    if population_type not in POPULATION_TYPES:
        raise InvalidParameter("population_type", f"must be one of {', '.join(POPULATION_TYPES)}")
    if measure not in MEASURES:
        raise InvalidParameter("measure", f"must be one of {', '.join(MEASURES)}")


def map_view(
    session: Session,
    round_code: str,
    level: int,
    population_type: str,
    measure: str = "absolute",
    approximate: bool = True,
) -> MapView:
    """The view's areas with their values and the classes of those values (404 for an
    unknown round); `approximate` picks the derived polygons of a level of points (Libya's
    baladiyas) over the points."""
    ref = rounds.catalogue(session, None).require(round_code)
    op = operations.all_operations(session)[ref.operation]
    check_view(op, level, population_type, measure)
    approximate = approximate and ogc.approximate_level(op.iso3) == level
    flt = StatsFilter(
        level=level,
        operation=ref.operation,
        round_ids=(ref.id,),
        population_types=(population_type,),
        collapse_reasons=True,
    )
    mapped = stats_views.statistics_features(session, flt, Page(10_000, 0), approximate)
    key = PLURAL[population_type] + ("_per_1000" if measure == "per_1000" else "")
    areas = []
    for pcode, geometry, properties in sorted(mapped.features, key=lambda f: f[0]):
        props = orjson.loads(bytes(properties))
        value = props.get(key)
        areas.append(
            Area(
                pcode,
                props.get("name_en") or pcode,
                props.get("name_ar") or "",
                None if value is None else float(value),
                orjson.loads(bytes(geometry)) if geometry else None,
            )
        )
    shapes = encoded.geometries(session, "official")
    outlines = [orjson.loads(shapes[p]) for p in areas_service.pcodes_at(session, op.iso3, 1)]
    return MapView(
        ref.code,
        f"R{ref.number}" if ref.number else (ref.when.isoformat() if ref.when else ref.code),
        level,
        approximate,
        population_type,
        measure,
        areas,
        outlines,
        quantile_classes(a.value for a in areas),
        "published",
        op,
    )


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` in CRS84; None when not given (the operation's)."""
    if not text:
        return None
    parts = text.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter("bbox", "expected four numbers: minlon,minlat,maxlon,maxlat", text)
    west, south, east, north = numbers
    if not (-180 <= west < east <= 180 and -85 <= south < north <= 85):
        raise InvalidParameter(
            "bbox",
            "expected minlon < maxlon within -180..180 and minlat < maxlat within -85..85",
            text,
        )
    return west, south, east, north


# --- drawing ------------------------------------------------------------------------------


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(-85.0, min(85.0, lat))
    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


class _Frame:
    """Web Mercator (as the web map) fitted into the rectangle `left, top, right, bottom`
    of the canvas with a margin; `view` is the canvas (what is drawn at all)."""

    def __init__(self, bbox, width, height, left=0.0, top=0.0, right=None, bottom=None):
        right, bottom, margin = (
            width if right is None else right,
            height if bottom is None else bottom,
            12,
        )
        (x0, y0), (x1, y1) = _mercator(bbox[0], bbox[1]), _mercator(bbox[2], bbox[3])
        inner_w, inner_h = right - left - 2 * margin, bottom - top - 2 * margin
        self.scale = min(inner_w / (x1 - x0), inner_h / (y1 - y0))
        self.dx = left + (right - left - self.scale * (x1 - x0)) / 2 - self.scale * x0
        self.dy = top + (bottom - top - self.scale * (y1 - y0)) / 2 + self.scale * y1
        self.view = box(-margin, -margin, width + margin, height + margin)

    def project(self, geometry):
        """A GeoJSON (or shapely) geometry in CRS84 as a shapely geometry in pixels."""

        def to_px(coords: np.ndarray) -> np.ndarray:
            x = np.radians(coords[:, 0])
            y = np.log(np.tan(math.pi / 4 + np.radians(coords[:, 1].clip(-85, 85)) / 2))
            return np.column_stack((self.dx + self.scale * x, self.dy - self.scale * y))

        found = shape(geometry) if isinstance(geometry, dict) else geometry
        return shapely.transform(found, to_px)


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _path(geometry) -> str:
    parts = []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            coords = []
            for x, y in ring.coords[:-1]:
                point = f"{_n(x)},{_n(y)}"
                if not coords or coords[-1] != point:
                    coords.append(point)
            if len(coords) >= 3:
                parts.append("M" + "L".join(coords) + "Z")
    return "".join(parts)


def _format(value: float, measure: str, words: dict) -> str:
    """A number as the page writes it: `en` 12,345.6; `ar-LY` 12.345,6 (Latin digits)."""
    text = f"{value:,.1f}" if measure == "per_1000" else f"{value:,.0f}"
    return text.translate(_ARABIC_SEPARATORS) if words["lang"] == "ar" else text


_ARABIC_SEPARATORS = str.maketrans({",": ".", ".": ","})


NARROW = 520  # px: below this width the legend goes under the map, not over it


def draw(
    view: MapView,
    lang: str = "en",
    bbox: tuple[float, float, float, float] | None = None,
    width: int = 960,
    height: int = 640,
    furniture: bool = False,
    legend: bool = True,
) -> str:
    """The SVG document of `view` in `lang` ('en' or 'ar'), showing `bbox` (by default
    the operation's map bounds); with `furniture`, a scale bar and a north arrow (printed
    maps and reports); without `legend`, no legend (a page that sets it as text: WeasyPrint
    lays out SVG text letter by letter, which breaks Arabic marks and ligatures).

    The legend sits at the bottom left in both languages (over Libya's empty south-west,
    as on the web map) and the map is fitted clear of it; on a narrow canvas it goes
    under the map."""
    words = view.words(lang)
    bbox = bbox or view.operation.map_bounds or WORLD
    tolerance = 0.4  # px: invisible, and it keeps polygons small
    legend_shown = legend
    legend = _Legend(view, words, lang == "ar", min(300, width - 20))
    legend_box = box(10, height - 10 - legend.height, 10 + legend.width, height - 10)
    if not legend_shown:
        frame = _Frame(bbox, width, height)
    elif width < NARROW:
        frame = _Frame(bbox, width, height, bottom=height - 10 - legend.height)
    else:  # move the map right, step by step, until no land lies under the legend
        land = shapely.union_all([shape(g) for g in view.outlines]).simplify(0.02)
        for left in range(0, int(legend.width) + 21, 20):
            frame = _Frame(bbox, width, height, left=left)
            if not frame.project(land).intersects(legend_box):
                break
    font = FONT_AR if lang == "ar" else FONT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" lang={quoteattr(lang)} font-family={quoteattr(font)} '
        f'data-round={quoteattr(view.round_code)} data-level="{view.level}" '
        f"data-population-type={quoteattr(view.population_type)} "
        f"data-measure={quoteattr(view.measure)}>",
        f"<title>{escape(_title(view, words))}</title>",
        f'<rect width="{width}" height="{height}" fill="{SEA}"/>',
        '<g id="map-land">',
    ]
    outlines = []
    for geometry in view.outlines:
        projected = frame.project(geometry).simplify(tolerance)
        if projected.intersects(frame.view):
            d = _path(projected)
            outlines.append(d)
            out.append(f'<path d="{d}" fill="{LAND}"/>')
    out.append("</g>")
    out.append(_areas(view, frame, tolerance, words))
    if view.level > 1:  # level-1 outlines over finer areas and points, as on the web map
        out.append(f'<g id="map-outlines" fill="none" stroke="{OUTLINE}" stroke-width="1">')
        out += [f'<path d="{d}"/>' for d in outlines]
        out.append("</g>")
    if legend_shown:
        out.append(legend.svg(legend_box.bounds[0], legend_box.bounds[1]))
    if furniture:
        out.append(_furniture(frame, bbox, width, words))
    out.append("</svg>")
    return "\n".join(out) + "\n"


EARTH_RADIUS = 6_378_137.0  # m, Web Mercator's sphere
NICE_KM = (10, 20, 50, 100, 200, 250, 500, 1000, 2000)


def _furniture(frame: _Frame, bbox, width: int, words: dict) -> str:
    """A scale bar (true at the shown area's middle latitude: Web Mercator stretches
    distances by 1/cos(latitude)) and a north arrow, at the top right."""
    middle = math.radians((bbox[1] + bbox[3]) / 2)
    metres_per_px = EARTH_RADIUS * math.cos(middle) / frame.scale
    km = next((k for k in NICE_KM if k * 1000 / metres_per_px >= 90), NICE_KM[-1])
    length = km * 1000 / metres_per_px
    x1, y = width - 16, 30
    x0 = x1 - length
    unit = "km"  # in Latin letters in both languages: see `draw` on SVG text
    return "\n".join(
        [
            '<g id="map-furniture" font-size="10" fill="#222222">',
            f'<rect x="{_n(x0 - 6)}" y="{y - 22}" width="{_n(length + 12)}" height="60" '
            'fill="#ffffff" fill-opacity="0.85" rx="3"/>',
            f'<path d="M{_n(x0)},{y}h{_n(length / 2)}v5h-{_n(length / 2)}Z" fill="#222222"/>',
            f'<path d="M{_n(x0 + length / 2)},{y}h{_n(length / 2)}v5h-{_n(length / 2)}Z" '
            'fill="#ffffff" stroke="#222222" stroke-width="0.6"/>',
            f'<text x="{_n(x0)}" y="{y - 4}" text-anchor="start">0</text>',
            f'<text x="{_n(x1)}" y="{y - 4}" text-anchor="end" direction="ltr">{km} {unit}</text>',
            f'<path d="M{_n(x1 - 8)},{y + 32}l8,-20l8,20l-8,-6Z" fill="#222222"/>',
            f'<text x="{_n(x1 - 22)}" y="{y + 30}" text-anchor="middle" '
            'font-weight="bold">N</text>',
            "</g>",
        ]
    )


def _title(view: MapView, words: dict) -> str:
    return words["title"].format(
        type=words[view.population_type],
        measure=words[view.measure],
        round=view.round_label,
        level=words["level"],
    )


def _areas(view: MapView, frame: _Frame, tolerance: float, words: dict) -> str:
    polygons = not view.points
    out = [
        '<g id="map-areas" stroke="{}" stroke-width="{}"{}>'.format(
            "#666666" if view.approximate else "#ffffff",
            "0.6",
            ' stroke-dasharray="2 2"' if view.approximate else "",
        )
    ]
    values = [a.value for a in view.areas if a.value is not None]
    largest = math.sqrt(max(values)) if values and max(values) > 0 else 1.0
    circles = []
    for area in view.areas:
        if area.geometry is None:
            continue
        projected = frame.project(area.geometry)
        if not projected.intersects(frame.view):
            continue
        name = area.name_ar if words["lang"] == "ar" and area.name_ar else area.name_en
        shown = words["no_data"] if area.value is None else _format(area.value, view.measure, words)
        label = f"<title>{escape(f'{name}: {shown}')}</title>"
        colour = view.classes.colour(area.value)
        pcode = quoteattr(area.pcode)
        if polygons:
            d = _path(projected.simplify(tolerance))
            out.append(f'<path data-pcode={pcode} d="{d}" fill="{colour}">{label}</path>')
        else:
            if area.value is None:
                radius = 2.5
            else:
                top = MAX_RADIUS[view.level]
                radius = 2.5 + (top - 2.5) * math.sqrt(max(area.value, 0)) / largest
            point = projected.centroid
            circles.append(
                (
                    -radius,
                    area.pcode,
                    f'<circle data-pcode={pcode} cx="{_n(point.x)}" cy="{_n(point.y)}" '
                    f'r="{_n(radius)}" fill="{colour}" stroke="#333333" stroke-width="0.7" '
                    f'fill-opacity="0.9">{label}</circle>',
                )
            )
    out += [c for *_, c in sorted(circles)]  # large circles first, small ones on top
    out.append("</g>")
    return "\n".join(out)


def _wrap(text: str, size: float, width: float) -> list[str]:
    """`text` in lines that fit `width` px at font `size` (an average glyph is taken as
    0.56 em: no font metrics are at hand, and a narrow overestimate keeps texts inside)."""
    most = max(8, int(width / (size * 0.56)))
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > most:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def legend_texts(view: MapView, lang: str) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The legend's title, its rows (text, colour) and its notes (quality, geometry,
    attribution) in `lang`: what the SVG legend draws, for pages that set it as text."""
    words = view.words(lang)
    notes = [words["published"]]
    if view.approximate:
        notes.append(words["approximate"])
    elif view.points:
        notes.append(words["points"])
    unlocated = sum(1 for a in view.areas if a.geometry is None)
    if unlocated:
        notes.append(words["unlocated"].format(n=unlocated))
    notes.append(words["attribution"])
    rows = [
        (f"{_format(a, view.measure, words)} \u2013 {_format(b, view.measure, words)}", colour)
        for a, b, colour in view.classes.ranges()
    ]
    rows.append((words["no_data"], NO_DATA))
    return _title(view, words), rows, notes


class _Legend:
    """The legend's lines, measured first (the map is fitted around it), then drawn."""

    ROW, TITLE, NOTE = 16, 16, 12.5

    def __init__(self, view: MapView, words: dict, rtl: bool, width: float):
        self.rtl, self.width = rtl, width
        _, self.rows, notes = legend_texts(view, words["lang"])
        inner = width - 20
        self.title = _wrap(_title(view, words), 13, inner)
        self.notes = [line for note in notes for line in _wrap(note, 9.5, inner)]
        self.height = 12 + self.TITLE * len(self.title) + self.ROW * len(self.rows) + 6
        self.height += self.NOTE * len(self.notes) + 6

    def svg(self, x0: float, y0: float) -> str:
        anchor = f'text-anchor="start" direction="{"rtl" if self.rtl else "ltr"}"'
        edge = x0 + self.width - 10 if self.rtl else x0 + 10  # where texts start
        out = [
            '<g id="map-legend" font-size="12" fill="#222222">',
            f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(self.width)}" '
            f'height="{_n(self.height)}" rx="4" fill="#ffffff" fill-opacity="0.92" '
            'stroke="#999999" stroke-width="0.5"/>',
        ]
        y = y0 + 8
        for line in self.title:
            out.append(
                f'<text x="{_n(edge)}" y="{_n(y + 12)}" font-size="13" font-weight="bold" '
                f"{anchor}>{escape(line)}</text>"
            )
            y += self.TITLE
        y += 2
        for text, colour in self.rows:
            swatch_x = edge - 14 if self.rtl else edge
            out.append(
                f'<rect class="swatch" x="{_n(swatch_x)}" y="{_n(y + 2)}" width="14" '
                f'height="11" fill="{colour}" stroke="#777777" stroke-width="0.5"/>'
            )
            text_x = edge - 20 if self.rtl else edge + 20
            out.append(f'<text x="{_n(text_x)}" y="{_n(y + 12)}" {anchor}>{escape(text)}</text>')
            y += self.ROW
        y += 4
        for line in self.notes:
            out.append(
                f'<text x="{_n(edge)}" y="{_n(y + 10)}" font-size="9.5" fill="#444444" '
                f"{anchor}>{escape(line)}</text>"
            )
            y += self.NOTE
        out.append("</g>")
        return "\n".join(out)
