"""A QGIS project of an operation's OGC collections, styled as the web map: the figures of
levels 1 and 2, each layer graduated by the web map's classes (app.maps.styles) and
labelled in the chosen language, titled and credited. Where a level's areas are points
with approximate polygons (Libya's baladiyas), the polygons are a layer of their own,
joined to the level's figures by pcode and drawn dashed, as on the page. The layers read
the service's OGC API - Features, so the project shows the data as it is when opened.

Written as QGIS's own project XML (the parts QGIS 3 reads; it fills in the rest) inside
a .qgz archive; deterministic, with no date beyond the data's.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy.orm import Session

from app.maps import styles
from app.maps.classes import NO_DATA
from app.services import ogc, operations

WGS84 = (
    "<spatialrefsys><authid>EPSG:4326</authid><srid>4326</srid>"
    "<description>WGS 84</description><geographicflag>true</geographicflag></spatialrefsys>"
)
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so the same data gives the same bytes
LEVELS = (1, 2)
JOINED = ("round", "reporting_date", "idps", "returnees", "migrants", "complete", "quality")


def _rgb(colour: str) -> str:
    value = colour.lstrip("#")
    return ",".join(str(int(value[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _style_id(session: Session, collection: ogc.Collection, ids: list[str]) -> str:
    """The style of the population type whose round the layer shows by default (the OGC
    items' default round: Libya's baladiyas show Round 54's migrants)."""
    if not collection.stats:
        return ids[0]
    shown = ogc.round_for(session, collection, None)
    for style_id in ids:
        if ogc.round_for(session, collection, None, (style_id,)) == shown:
            return style_id
    return ids[0]


def _symbol(style: styles.Style, name: str, colour: str) -> str:
    props: dict[str, str]
    if style.geometry == "point":
        kind, cls = "marker", "SimpleMarker"
        props = {"name": "circle", "color": _rgb(colour), "outline_color": _rgb(styles.OUTLINE)}
        props |= {"size": "2.4", "outline_width": "0.2"}
    else:
        kind, cls = "fill", "SimpleFill"
        fill = colour if style.classes is not None else styles.FILL
        props = {"color": _rgb(fill), "outline_color": _rgb(styles.OUTLINE)}
        props |= {"outline_width": "0.26", "style": "solid" if style.classes else "no"}
        props["outline_style"] = "dash" if style.dashed else "solid"
    body = "".join(f'<prop k="{k}" v="{escape(v)}"/>' for k, v in props.items())
    return (
        f'<symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{cls}" pass="0" enabled="1" locked="0">{body}</layer></symbol>'
    )


def _renderer(style: styles.Style) -> str:
    if style.classes is None or style.classes.lowest is None:
        return (
            '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0">'
            f"<symbols>{_symbol(style, '0', styles.FILL)}</symbols></renderer-v2>"
        )
    ranges, symbols = [], []
    for i, (low, high, colour) in enumerate(style.classes.ranges()):
        label = quoteattr(f"{low:,.0f} - {high:,.0f}")
        ranges.append(
            f'<range symbol="{i}" render="true" lower="{low:.6f}" upper="{high:.6f}" '
            f"label={label}/>"
        )
        symbols.append(_symbol(style, str(i), colour))
    return (
        f'<renderer-v2 type="graduatedSymbol" attr="{style.value}" '
        'graduatedMethod="GraduatedColor" symbollevels="0" forceraster="0" enableorderby="0">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols>"
        f"<source-symbol>{_symbol(style, '0', NO_DATA)}</source-symbol></renderer-v2>"
    )


def _labeling(style: styles.Style) -> str:
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{style.label}" isExpression="0" fontFamily="Noto Sans" '
        'fontSize="8" fontSizeUnit="Point" textColor="34,34,34,255" namedStyle="Regular">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        "</text-style>"
        '<placement placement="0" dist="1"/>'  # around the point or the centroid
        '<rendering obstacle="1" displayAll="0" labelPerPart="0"/>'
        "</settings></labeling>"
    )


def _layer_id(collection: ogc.Collection) -> str:
    return f"dtm_geo_{collection.id.replace('-', '_')}"


def _join(figures: ogc.Collection) -> str:
    """The figures of `figures`' layer joined to this one by pcode (no prefix)."""
    fields = "".join(f'<field name="{p}"/>' for p in figures.properties if p in JOINED)
    return (
        f'<vectorjoins><join joinLayerId="{_layer_id(figures)}" joinFieldName="pcode" '
        'targetFieldName="pcode" memoryCache="1" hasCustomPrefix="1" customPrefix="" '
        'cascadedDelete="0" editable="0" upsertOnEdit="0" dynamicForm="0">'
        f"<joinFieldsSubset>{fields}</joinFieldsSubset></join></vectorjoins>"
    )


def _layer(
    style: styles.Style, base: str, credit: str, shown: bool, joined: ogc.Collection | None
) -> tuple[str, str]:
    collection = style.collection
    layer_id = _layer_id(collection)
    source = (
        f"pagingEnabled='true' restrictToRequestBBOX='0' srsname='EPSG:4326' "
        f"typename='{collection.id}' url='{base}'"
    )
    geometry = {"point": "Point", "line": "Line"}.get(style.geometry, "Polygon")
    tree = (
        f'<layer-tree-layer id="{layer_id}" name={quoteattr(style.title)} providerKey="OAPIF" '
        f'source={quoteattr(source)} checked="Qt::{"Checked" if shown else "Unchecked"}" '
        'expanded="1"/>'
    )
    layer = (
        f'<maplayer type="vector" geometry="{geometry}" labelsEnabled="1" '
        f'styleCategories="AllStyleCategories">'
        f"<id>{layer_id}</id><datasource>{escape(source)}</datasource>"
        f"<layername>{escape(style.title)}</layername><srs>{WGS84}</srs>"
        f"<title>{escape(style.title)}</title><abstract>{escape(collection.description)}"
        f"</abstract><attribution>{escape(credit)}</attribution>"
        '<provider encoding="UTF-8">OAPIF</provider>'
        f"{_join(joined) if joined else ''}{_renderer(style)}{_labeling(style)}</maplayer>"
    )
    return tree, layer


def project_xml(session: Session, op: operations.Operation, base: str, lang: str) -> str:
    """The project of one operation's figures, the finest level on top."""
    credit = op.map_credit_ar if lang == "ar" else op.map_credit_en
    name = op.name_ar if lang == "ar" else op.name_en
    figures = {c.level: c for c in ogc.of_operation(op.iso3) if c.stats and c.level in LEVELS}
    approximate = {
        c.level: c
        for c in ogc.of_operation(op.iso3)
        if c.geometry_kind == "approximate" and c.level in figures
    }
    entries = []  # (the style of a layer, the figures joined to it)
    for level, collection in sorted(figures.items(), reverse=True):
        ids = styles.style_ids(session, collection)
        if not ids:
            continue  # no figures yet
        style = styles.style_of(session, collection, _style_id(session, collection, ids), lang)
        if level in approximate:  # the page draws these figures on the approximate polygons
            polygons = approximate[level]
            title = f"{style.title} ({polygons.title})"
            entries.append((replace(style, collection=polygons, title=title), collection))
        entries.append((style, None))
    trees, layers = [], []
    # top to bottom, finest first: the first shown, the others ticked on by hand
    for i, (style, joined) in enumerate(entries):
        tree, layer = _layer(style, base, credit, i == 0, joined)
        trees.append(tree)
        layers.append(layer)
    title = f"DTM Geo: {name}"
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis projectname={quoteattr(title)} version="3.22.0">'
        f"<title>{escape(title)}</title><projectCrs>{WGS84}</projectCrs>"
        f"<layer-tree-group>{''.join(trees)}</layer-tree-group>"
        f"<projectlayers>{''.join(layers)}</projectlayers>"
        f"<projectMetadata><title>{escape(title)}</title><abstract>{escape(credit)}"
        f"</abstract><language>{lang}</language></projectMetadata>"
        "</qgis>\n"
    )


def qgz(session: Session, op: operations.Operation, base: str, lang: str) -> bytes:
    """The project as a .qgz archive (a zip holding the .qgs)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"dtm-geo-{op.slug}.qgs", ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, project_xml(session, op, base, lang).encode("utf-8"))
    return buffer.getvalue()
