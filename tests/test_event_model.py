"""The event flow model's arithmetic: whole numbers that keep every published total."""

from __future__ import annotations

import numpy as np
import pytest

from app.geo.event_flows import (
    ModelError,
    Parameters,
    Place,
    Snapshot,
    apportion,
    fit,
    model_flows,
    whole,
)

PLACES = {
    "A": Place("A", "R1", 22.6, 32.7, 100_000),  # the epicentre
    "B": Place("B", "R1", 22.0, 32.8, 50_000),
    "C": Place("C", "R1", 20.1, 32.1, 600_000),
    "D": Place("D", "R2", 13.2, 32.9, 900_000),
    "E": Place("E", "R2", 15.1, 32.4, 400_000),
}
PARAMS = Parameters(
    epicentre="A", origin_weights={"A": 900, "B": 100}, hosts_per_region={"R1": 3, "R2": 2}
)


def test_apportion_keeps_the_total_and_is_deterministic():
    shares = apportion(10, {"x": 1, "y": 1, "z": 1})
    assert sum(shares.values()) == 10 and shares == {"x": 4, "y": 3, "z": 3}
    assert apportion(0, {"x": 1}) == {"x": 0}
    with pytest.raises(ModelError):
        apportion(5, {"x": 0, "y": 0})


def test_fitting_and_rounding_keep_row_and_column_totals():
    rng = np.random.default_rng(7)
    seed = rng.random((4, 6))
    rows = np.array([120, 7, 33, 840])
    cols = np.array([300, 1, 99, 250, 150, 200])
    fitted = fit(rows.astype(float), cols.astype(float), seed)
    rounded = whole(fitted, rows, cols)
    assert rounded.dtype.kind == "i" and (rounded >= 0).all()
    assert rounded.sum(1).tolist() == rows.tolist()
    assert rounded.sum(0).tolist() == cols.tolist()


def test_a_snapshot_is_reproduced_exactly():
    snapshot = Snapshot(
        total=10_000,
        households=2_000,
        hosted={"A": 4_000},
        region_total={"R1": 9_000, "R2": 1_000},
        origin_share_in_region={("A", "R2"): 10},
    )
    flows = model_flows(snapshot, PLACES, PARAMS)
    assert sum(f.individuals for f in flows) == 10_000
    assert sum(f.households for f in flows) == 2_000
    assert all(f.households <= f.individuals for f in flows)
    hosted = {}
    for f in flows:
        hosted[f.destination] = hosted.get(f.destination, 0) + f.individuals
    assert hosted["A"] == 4_000
    assert sum(n for p, n in hosted.items() if PLACES[p].region == "R2") == 1_000
    from_a = [f for f in flows if f.origin == "A"]
    to_r2 = sum(f.individuals for f in from_a if PLACES[f.destination].region == "R2")
    assert round(100 * to_r2 / sum(f.individuals for f in from_a)) == 10
    assert max(n for p, n in hosted.items() if p != "A") < 4_000


def test_shares_become_the_nearest_whole_people_and_unnamed_hosts_stay_below():
    snapshot = Snapshot(total=4_321, hosted_share={"A": 40, "B": 20}, region_share={"R1": 70})
    flows = model_flows(snapshot, PLACES, PARAMS)
    hosted = {}
    for f in flows:
        hosted[f.destination] = hosted.get(f.destination, 0) + f.individuals
    assert hosted["A"] == round(4_321 * 0.40) and hosted["B"] == round(4_321 * 0.20)
    assert all(100 * n / 4_321 < 19.5 for p, n in hosted.items() if p not in "AB")
    assert sum(hosted.values()) == 4_321


@pytest.mark.parametrize(
    "snapshot",
    [
        Snapshot(total=100, region_total={"R1": 80, "R2": 30}),  # regions exceed the total
        Snapshot(total=100, hosted={"A": 90}, region_total={"R1": 50, "R2": 50}),
        Snapshot(total=100, hosted={"B": 1}, region_total={"R1": 100}),  # cap impossible
    ],
)
def test_figures_the_model_cannot_meet_are_refused(snapshot):
    with pytest.raises(ModelError):
        model_flows(snapshot, PLACES, PARAMS)
