"""Each OGC collection's style as the web map draws it, for GIS clients: SLD 1.1 (QGIS,
GeoServer, GDAL-based tools) and a MapLibre style over the service's vector tiles.

One `Style` per collection and style id: a statistics collection has a style per population
type it holds figures of (graduated by the web map's classes of its default round,
app.maps.classes, with the no-data colour for areas without a figure); the others have
one, "default" (outlines; the approximate polygons dashed, as on the page). Every style
labels the areas with their names in the chosen language (the MapLibre style with the
service's own glyphs).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.maps import svg
from app.maps.classes import NO_DATA, Classes
from app.services import ogc
from app.vocabulary import PLURAL, POPULATION_TYPES

DEFAULT = "default"
OUTLINE, FILL, LINE = "#555555", "#fbfaf7", "#2a788e"
SLD = "application/vnd.ogc.sld+xml;version=1.1"
MAPLIBRE = "application/vnd.mapbox.style+json"


@dataclass(frozen=True)
class Style:
    collection: ogc.Collection
    id: str
    title: str
    label: str  # the property holding the names: name_en or name_ar
    value: str | None = None  # the graduated property (idps, returnees, migrants)
    classes: Classes | None = None
    round_code: str | None = None

    @property
    def geometry(self) -> str:
        """polygon, point or line: what the symbolizers draw."""
        kind = self.collection.geometry_type.lower()
        return "point" if "point" in kind else "line" if "line" in kind else "polygon"

    @property
    def dashed(self) -> bool:
        return self.collection.geometry_kind == "approximate"

    def sld_bytes(self) -> bytes:
        return sld(self).encode("utf-8")


def style_ids(session: Session, collection: ogc.Collection) -> list[str]:
    """The styles of a collection: one per population type with figures in its default
    round for a statistics collection, else "default"."""
    if not collection.stats:
        return [DEFAULT]
    found = []
    for kind in POPULATION_TYPES:
        code = ogc.round_for(session, collection, None, (kind,))
        if code is None:
            continue
        view = svg.map_view(session, code, collection.level, kind, approximate=False)
        if view.classes.lowest is not None:
            found.append(kind)
    return found


def style_of(session: Session, collection: ogc.Collection, style_id: str, lang: str) -> Style:
    """One style (404 naming the collection's styles for an unknown id)."""
    known = style_ids(session, collection)
    if style_id not in known:
        raise NotFound(
            f"collection '{collection.id}' has no style '{style_id}'; styles: {', '.join(known)}"
        )
    label = "name_ar" if lang == "ar" else "name_en"
    if not collection.stats:
        return Style(collection, DEFAULT, collection.title, label)
    code = ogc.round_for(session, collection, None, (style_id,))
    view = svg.map_view(session, code, collection.level, style_id, approximate=False)
    title = f"{collection.title}: {PLURAL[style_id]}, {view.round_label}"
    return Style(collection, style_id, title, label, PLURAL[style_id], view.classes, code)


def _rules(style: Style) -> list[tuple[str, str | None, str]]:
    """(name, OGC filter or None, fill colour) of each rule, lowest class first."""
    if style.classes is None:
        return [(style.title, None, FILL)]
    rules = []
    ranges = style.classes.ranges()
    for i, (low, high, colour) in enumerate(ranges):
        upper = "" if i == len(ranges) - 1 else _compare("LessThan", style.value, high)
        lower = _compare("GreaterThanOrEqualTo", style.value, low)
        condition = f"<ogc:And>{lower}{upper}</ogc:And>" if upper else lower
        rules.append((f"{low:,.0f} - {high:,.0f}", condition, colour))
    no_data = f"<ogc:PropertyIsNull><ogc:PropertyName>{style.value}</ogc:PropertyName>"
    rules.append(("no figure", no_data + "</ogc:PropertyIsNull>", NO_DATA))
    return rules


def _compare(op: str, prop: str | None, value: float) -> str:
    return (
        f"<ogc:PropertyIs{op}><ogc:PropertyName>{prop}</ogc:PropertyName>"
        f"<ogc:Literal>{value:g}</ogc:Literal></ogc:PropertyIs{op}>"
    )


def _symbolizer(style: Style, colour: str) -> str:
    stroke = (
        f'<se:Stroke><se:SvgParameter name="stroke">{OUTLINE}</se:SvgParameter>'
        '<se:SvgParameter name="stroke-width">0.5</se:SvgParameter>'
        + ('<se:SvgParameter name="stroke-dasharray">4 2</se:SvgParameter>' if style.dashed else "")
        + "</se:Stroke>"
    )
    fill = f'<se:Fill><se:SvgParameter name="fill">{colour}</se:SvgParameter></se:Fill>'
    if style.geometry == "point":
        return (
            "<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle"
            f"</se:WellKnownName>{fill}{stroke}</se:Mark><se:Size>8</se:Size></se:Graphic>"
            "</se:PointSymbolizer>"
        )
    if style.geometry == "line":
        return (
            f'<se:LineSymbolizer><se:Stroke><se:SvgParameter name="stroke">{LINE}'
            '</se:SvgParameter><se:SvgParameter name="stroke-width">1.5</se:SvgParameter>'
            "</se:Stroke></se:LineSymbolizer>"
        )
    return f"<se:PolygonSymbolizer>{fill}{stroke}</se:PolygonSymbolizer>"


def sld(style: Style) -> str:
    """The style as an SLD 1.1 document (Symbology Encoding 1.1, as QGIS writes it)."""
    rules = []
    for name, condition, colour in _rules(style):
        where = f"<ogc:Filter>{condition}</ogc:Filter>" if condition else ""
        rules.append(
            f"<se:Rule><se:Name>{escape(name)}</se:Name><se:Description><se:Title>"
            f"{escape(name)}</se:Title></se:Description>{where}"
            f"{_symbolizer(style, colour)}</se:Rule>"
        )
    if style.geometry != "line":
        rules.append(
            "<se:Rule><se:Name>labels</se:Name><se:TextSymbolizer><se:Label>"
            f"<ogc:PropertyName>{style.label}</ogc:PropertyName></se:Label><se:Font>"
            '<se:SvgParameter name="font-family">Noto Sans</se:SvgParameter>'
            '<se:SvgParameter name="font-size">10</se:SvgParameter></se:Font>'
            '<se:Halo><se:Radius>1</se:Radius><se:Fill><se:SvgParameter name="fill">#ffffff'
            "</se:SvgParameter></se:Fill></se:Halo>"
            '<se:Fill><se:SvgParameter name="fill">#222222</se:SvgParameter></se:Fill>'
            "</se:TextSymbolizer></se:Rule>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
        'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/sld '
        'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
        f"<NamedLayer><se:Name>{escape(style.collection.id)}</se:Name><UserStyle>"
        f"<se:Name>{escape(style.id)}</se:Name><se:Description><se:Title>"
        f"{escape(style.title)}</se:Title></se:Description><se:FeatureTypeStyle>"
        + "".join(rules)
        + "</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n"
    )


FONTSTACK = "Noto Sans Regular"  # the service's own glyphs (app.web.pages, /glyphs/)


def maplibre(style: Style, tilejson_url: str, glyphs_url: str) -> dict:
    """The style as a MapLibre (Mapbox GL) style over the collection's vector tiles, the
    names drawn with the service's glyphs (Arabic needs MapLibre's RTL text plugin)."""
    layer_id = style.collection.id
    if style.classes is not None and style.classes.lowest is not None:
        steps: list = ["step", ["get", style.value], style.classes.colours[0]]
        for cut, colour in zip(style.classes.cuts, style.classes.colours[1:], strict=True):
            steps += [cut, colour]
        colour = ["case", ["==", ["get", style.value], None], NO_DATA, steps]
    else:
        colour = FILL
    source = {"source": "dtm-geo", "source-layer": layer_id}
    if style.geometry == "point":
        paint = {"circle-color": colour, "circle-radius": 5, "circle-stroke-color": OUTLINE}
        layers = [{"id": layer_id, "type": "circle", **source, "paint": paint}]
    elif style.geometry == "line":
        paint = {"line-color": LINE, "line-width": 1.5}
        layers = [{"id": layer_id, "type": "line", **source, "paint": paint}]
    else:
        outline = {"line-color": OUTLINE, "line-width": 0.5}
        if style.dashed:
            outline["line-dasharray"] = [4, 2]
        layers = [
            {"id": layer_id, "type": "fill", **source, "paint": {"fill-color": colour}},
            {"id": f"{layer_id}-outline", "type": "line", **source, "paint": outline},
        ]
    if style.geometry != "line":
        layout = {
            "text-field": ["get", style.label],
            "text-font": [FONTSTACK],
            "text-size": 11,
        }
        if style.geometry == "point":
            layout |= {"text-variable-anchor": ["top", "bottom", "left", "right"]}
            layout["text-radial-offset"] = 0.6
        paint = {"text-color": "#222222", "text-halo-color": "#ffffff", "text-halo-width": 1}
        layers.append(
            {
                "id": f"{layer_id}-names",
                "type": "symbol",
                **source,
                "layout": layout,
                "paint": paint,
            }
        )
    return {
        "version": 8,
        "name": style.title,
        "metadata": {"dtm-geo:collection": layer_id, "dtm-geo:round": style.round_code},
        "glyphs": glyphs_url,
        "sources": {"dtm-geo": {"type": "vector", "url": tilejson_url}},
        "layers": layers,
    }
