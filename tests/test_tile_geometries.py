"""The polygons stored per low zoom for the vector tiles (app.geo.tile_geometries): filled
by every load, and drawing the tiles the raw path draws, within a pixel or two."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from shapely.geometry import shape
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app import db
from app.geo import tile_geometries
from app.loaders.default_data import load_default_data
from app.services import ogc
from tests.conftest import loaded_copy

# tiles of stored zooms: the z6 tile over Baghdad (BENCHMARKS.md), Iraq's sub-districts and
# governorates, Libya's mantikas, the approximate baladiya polygons and a statistics layer
TILES = [
    ("irq-districts", 6, 39, 25, None),
    ("irq-districts", 9, 318, 205, None),
    ("irq-subdistricts", 7, 79, 51, None),
    ("irq-governorates", 3, 4, 3, None),
    ("irq-stats-admin2", 6, 39, 25, "IRQ-R132"),
    ("mantikas", 5, 18, 13, None),
    ("mantikas", 0, 0, 0, None),
    ("baladiyas-approximate", 6, 35, 26, None),
]

POLYGONS = """
    SELECT 'official' AS kind, pcode, geom FROM admin_areas WHERE ST_Dimension(geom) = 2
    UNION ALL SELECT 'approximate', pcode, geom FROM approximate_boundaries
"""


def _features(body: bytes, layer: str) -> dict[int, tuple[dict, object]]:
    decoded = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    features = decoded.get(layer, {"features": []})["features"]
    return {f["id"]: (f["properties"], shape(f["geometry"])) for f in features}


@pytest.mark.parametrize(("layer", "z", "x", "y", "round_code"), TILES)
def test_stored_zoom_tiles_draw_what_the_raw_path_draws(engine, layer, z, x, y, round_code):
    assert z in tile_geometries.ZOOMS
    collection = ogc.COLLECTIONS[layer]
    with Session(engine) as session:
        stored = _features(ogc.tile(session, collection, z, x, y, round_code), layer)
        # the same tile without stored geometry: every feature takes the raw path
        session.execute(text("DELETE FROM tile_geometries"))
        raw = _features(ogc.tile(session, collection, z, x, y, round_code), layer)
        session.rollback()
    assert stored and stored.keys() == raw.keys()
    for fid, (properties, geometry) in stored.items():
        raw_properties, raw_geometry = raw[fid]
        assert properties == raw_properties
        assert geometry.is_valid
        # tile units: 4096 a tile; the two simplify in another order, both to half a pixel
        assert geometry.hausdorff_distance(raw_geometry) <= 3, fid
    area = sum(g.area for _, g in stored.values())
    assert area == pytest.approx(sum(g.area for _, g in raw.values()), rel=0.01)


def test_every_polygon_area_is_stored_at_every_stored_zoom(engine):
    with engine.connect() as conn:
        polygons = conn.execute(text(f"SELECT count(*) FROM ({POLYGONS}) p")).scalar()
        stored = dict(
            conn.execute(text("SELECT zoom, count(*) FROM tile_geometries GROUP BY zoom")).all()
        )
        # a polygon under a pixel or two of a zoom's grid collapses there, and only then
        # (its tiles take the raw path)
        missing = conn.execute(
            text(f"""
                SELECT z.zoom, p.pcode, ST_Area(ST_Transform(p.geom, 3857)) / (:world / 2 ^ z.zoom
                       / 4096) ^ 2 AS pixels
                FROM ({POLYGONS}) p CROSS JOIN unnest(CAST(:zooms AS int[])) AS z(zoom)
                WHERE NOT EXISTS (SELECT 1 FROM tile_geometries t
                                  WHERE (t.kind, t.zoom, t.pcode) = (p.kind, z.zoom, p.pcode))
            """),
            {"world": tile_geometries.WORLD, "zooms": list(tile_geometries.ZOOMS)},
        ).all()
        invalid = conn.execute(
            text("SELECT count(*) FROM tile_geometries WHERE NOT ST_IsValid(geom)")
        ).scalar()
    assert polygons == 537  # Libya's 23 and Iraq's 414 polygons, 100 approximate ones
    assert sorted(stored) == list(tile_geometries.ZOOMS)
    assert all(stored[z] == polygons for z in tile_geometries.ZOOMS if z >= 1)
    assert all(pixels < 2 for _, _, pixels in missing) and invalid == 0


def test_migrating_and_reloading_the_boundaries_rebuild_the_stored_polygons(
    db_url, scratch_url, data_dir
):
    loaded_copy(db_url, scratch_url)
    engine = create_engine(scratch_url)
    count = text("SELECT count(*) FROM tile_geometries")
    extent = text("""
        SELECT ST_Extent(t.geom)::text FROM tile_geometries t
        WHERE t.pcode = 'IQG01Q01' AND t.zoom = 11
    """)
    try:
        with engine.connect() as conn:
            before, rows = conn.execute(extent).scalar(), conn.execute(count).scalar()
        # a database holding boundaries, migrated from before the table: filled
        db.downgrade(scratch_url, "0014")
        db.migrate(scratch_url)
        with engine.begin() as conn:
            assert conn.execute(count).scalar() == rows
            # Falluja moved a degree east, and Libya's stored polygons lost
            conn.execute(
                text("UPDATE admin_areas SET geom = ST_Translate(geom, 1, 0) WHERE pcode = :p"),
                {"p": "IQG01Q01"},
            )
            conn.execute(text("DELETE FROM tile_geometries WHERE pcode LIKE 'LY%'"))
        report = load_default_data(scratch_url, data_dir)
        assert report.counts.by_table["admin_areas"].updated == 1
        with engine.connect() as conn:
            assert conn.execute(extent).scalar() == before
            assert conn.execute(count).scalar() == rows
    finally:
        engine.dispose()
