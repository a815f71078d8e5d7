"""Hotspots: the service's statistics are esda's, on the same values and weights."""

from __future__ import annotations

import esda
import geopandas as gpd
import numpy as np
import pytest
from libpysal.weights import KNN, DistanceBand, Queen
from sqlalchemy import text

EARTH_RADIUS_KM = 6371.0088
PERMUTATIONS, SEED = 999, 20230910


def hotspots(client, **params):
    response = client.get("/api/v1/hotspots", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _points(engine, pcodes):
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pcode, ST_X(geom), ST_Y(geom) FROM admin_areas "
                "WHERE level = 2 AND ancestry[1] = 'LBY'"
            )
        ).all()
    where = {pcode: (x, y) for pcode, x, y in rows}
    return np.array([where[p] for p in pcodes])


def test_gi_star_on_r54_migrant_rates_equals_esda(client, engine):
    body = hotspots(
        client,
        round="R54",
        population_type="migrant",
        metric="rate",
        weights="knn",
        k=6,
        permutations=PERMUTATIONS,
        seed=SEED,
    )
    units = body["data"]
    assert len(units) == 100 and body["meta"]["islands"] == []
    pcodes = [u["pcode"] for u in units]
    y = np.array([u["value"] for u in units])

    # The rate is migrants per 1,000 residents on the HNO 2021 denominator.
    with engine.connect() as conn:
        expected = dict(
            conn.execute(
                text(
                    "SELECT o.pcode, 1000.0 * sum(o.individuals) / max(p.population) "
                    "FROM observations o JOIN rounds r ON r.id = o.round_id "
                    "JOIN populations p ON p.pcode = o.pcode "
                    "WHERE r.code = 'R54' AND p.year = 2021 AND o.population_type = 'migrant' "
                    "GROUP BY o.pcode"
                )
            ).all()
        )
    assert y == pytest.approx([float(expected[p]) for p in pcodes], abs=5e-4)

    w = KNN.from_array(_points(engine, pcodes), k=6, ids=pcodes, radius=EARTH_RADIUS_KM)
    direct = esda.G_Local(
        y, w, transform="B", permutations=PERMUTATIONS, star=True, n_jobs=1, seed=SEED
    )
    np.testing.assert_allclose([u["z"] for u in units], direct.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose([u["p_analytic"] for u in units], direct.p_norm, atol=1e-12)
    assert np.array_equal(np.float32([u["p_permutation"] for u in units]), direct.p_sim)
    # Classes: two-sided permutation p-values, as hot spot confidence bins are.
    for unit, z, p in zip(units, direct.Zs, np.minimum(1, 2 * direct.p_sim), strict=True):
        if p <= 0.10:
            confidence = 99 if p <= 0.01 else 95 if p <= 0.05 else 90
            assert unit["class"] == f"{'hot' if z > 0 else 'cold'} spot {confidence}%"
        else:
            assert unit["class"] == "not significant"
    assert any(u["class"] != "not significant" for u in units)


def test_local_moran_on_mantika_queen_contiguity_equals_esda(client, engine):
    body = hotspots(
        client,
        round="R54",
        population_type="migrant",
        level=1,
        method="moran",
        weights="queen",
        permutations=PERMUTATIONS,
        seed=SEED,
    )
    units = body["data"]
    assert len(units) == 22
    with engine.connect() as conn:
        frame = gpd.read_postgis(
            "SELECT pcode, geom FROM admin_areas WHERE level = 1 ORDER BY pcode",
            conn,
            geom_col="geom",
        ).set_index("pcode")
    frame = frame.loc[[u["pcode"] for u in units]]
    w = Queen.from_dataframe(frame, use_index=True)
    assert body["meta"]["weights"]["mean_neighbors"] == pytest.approx(w.mean_neighbors)
    w.transform = "r"
    y = np.array([u["value"] for u in units])
    direct = esda.Moran_Local(
        y, w, transformation="r", permutations=PERMUTATIONS, n_jobs=1, seed=SEED
    )
    np.testing.assert_allclose([u["local_i"] for u in units], direct.Is, atol=1e-9)
    np.testing.assert_allclose([u["z"] for u in units], direct.z_sim, atol=1e-9)
    assert [u["p_permutation"] for u in units] == direct.p_sim.tolist()
    quadrants = {1: "High-High", 2: "Low-High", 3: "Low-Low", 4: "High-Low"}
    for unit, q, p in zip(units, direct.q, direct.p_sim, strict=True):
        assert unit["class"] == (quadrants[q] if p <= 0.05 else "not significant")


def test_distance_band_leaves_out_and_reports_islands(client, engine):
    body = hotspots(
        client, round="R54", population_type="migrant", weights="distance", distance_km=60
    )
    pcodes = sorted(
        p
        for (p,) in engine.connect().execute(
            text("SELECT pcode FROM admin_areas WHERE level = 2 AND ancestry[1] = 'LBY'")
        )
    )
    lon, lat = np.radians(_points(engine, pcodes)).T
    # Great-circle (haversine) distances, computed here without libpysal.
    dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
    np.fill_diagonal(km, np.inf)
    expected_islands = {p for p, row in zip(pcodes, km, strict=True) if row.min() > 60}
    assert len(expected_islands) > 5
    assert set(body["meta"]["islands"]) == expected_islands
    assert {u["pcode"] for u in body["data"]} == set(pcodes) - expected_islands
    assert body["meta"]["weights"]["n"] == 100 - len(expected_islands)

    kept = [u["pcode"] for u in body["data"]]
    w = DistanceBand.from_array(
        _points(engine, kept), threshold=60, ids=kept, radius=EARTH_RADIUS_KM, silence_warnings=True
    )
    direct = esda.G_Local(
        np.array([u["value"] for u in body["data"]]),
        w,
        transform="B",
        permutations=999,
        star=True,
        n_jobs=1,
        seed=12345,
    )
    np.testing.assert_allclose([u["z"] for u in body["data"]], direct.Zs, atol=1e-9)


def test_results_are_reproducible_for_a_seed(client):
    params = {"round": "R54", "population_type": "migrant", "permutations": 199}
    first = hotspots(client, **params, seed=1)["data"]
    again = hotspots(client, **params, seed=1)["data"]
    other = hotspots(client, **params, seed=2)["data"]
    assert [u["p_permutation"] for u in first] == [u["p_permutation"] for u in again]
    assert [u["p_permutation"] for u in first] != [u["p_permutation"] for u in other]
    assert [u["z"] for u in first] == [u["z"] for u in other]  # analytic z: no randomness


def test_false_discovery_rate_uses_esdas_threshold(client):
    params = {"round": "R54", "population_type": "migrant", "metric": "rate", "seed": SEED}
    plain = hotspots(client, **params)["data"]
    corrected = hotspots(client, **params, fdr=True, alpha=0.1)
    threshold = corrected["meta"]["fdr_threshold"]
    p = np.minimum(1, 2 * np.float32([u["p_permutation"] for u in plain]))
    assert threshold == pytest.approx(float(esda.fdr(p, 0.1)))
    for unit in corrected["data"]:
        significant = unit["class"] != "not significant"
        assert significant == (min(1, 2 * np.float32(unit["p_permutation"])) <= threshold)
    flagged = sum(u["class"] != "not significant" for u in corrected["data"])
    assert flagged <= sum(u["class"] != "not significant" for u in plain)


def test_geojson_carries_geometry_and_echoes_parameters(client):
    response = client.get(
        "/api/v1/hotspots",
        params={
            "round": "R54",
            "population_type": "migrant",
            "weights": "queen-approximate",
            "format": "geojson",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 100
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["geometry_kind"] == "approximate_polygon"
    assert {"z", "p_analytic", "p_permutation", "class", "name_ar"} <= set(feature["properties"])
    assert body["parameters"]["weights"] == "queen-approximate"
    assert body["weights"]["type"] == "queen-approximate"
    assert body["weights"]["components"] >= 1

    cached = client.get(response.request.url, headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


def test_change_between_rounds_with_no_variation_is_refused(client):
    response = client.get(
        "/api/v1/hotspots",
        params={
            "round": "R54",
            "base_round": "R54",
            "metric": "change",
            "population_type": "migrant",
        },
    )
    assert response.status_code == 422
    assert "same value" in response.text and "metric" in response.text


@pytest.mark.parametrize(
    ("params", "status", "names"),
    [
        ({"weights": "distance"}, 422, "distance_km"),
        ({"weights": "queen"}, 422, "weights"),
        ({"metric": "change"}, 422, "base_round"),
        ({"level": 1, "k": 22}, 422, "k"),
        ({"k": 0}, 422, "k"),
        ({"permutations": 10}, 422, "permutations"),
        ({"method": "lisa"}, 422, "method"),
        ({"round": "R999"}, 404, "R999"),
        ({"round": "storm-daniel-2023-10-31", "population_type": "idp"}, 422, "round"),
        ({"weights": "distance", "distance_km": 1}, 422, "weights"),
        ({"weights": "distance", "distance_km": 5000}, 422, "undefined"),
        ({"level": 1, "weights": "queen-approximate"}, 422, "approximate"),
        ({"round": ""}, 422, "round"),
        ({"metric": "change", "base_round": ","}, 422, "base_round"),
        ({"metric": "rate", "base_round": "R54"}, 422, "only used with metric=change"),
    ],
)
def test_bad_parameters_are_named(client, params, status, names):
    query = {"round": "R54", "population_type": "migrant", **params}
    response = client.get("/api/v1/hotspots", params=query)
    assert response.status_code == status, response.text
    assert names in response.text
    assert "Traceback" not in response.text


def test_units_whose_neighbourhood_is_everything_are_undefined_not_significant(client):
    body = hotspots(
        client,
        round="R54",
        population_type="migrant",
        metric="rate",
        weights="distance",
        distance_km=1000,  # two central baladiyas are within 1,000 km of all the others
    )
    undefined = [u for u in body["data"] if u["class"] == "undefined"]
    assert undefined and len(undefined) < 100
    assert all(u["z"] is None and u["p_permutation"] is None for u in undefined)
    assert sorted(u["pcode"] for u in undefined) == sorted(body["meta"]["undefined"])
    defined = [u for u in body["data"] if u["class"] != "undefined"]
    assert all(u["z"] is not None for u in defined)
