"""Modelled flows of the default data: Storm Daniel's snapshots, from the published figures.

Reads the model's inputs from the staged published figures, boundaries and populations
(nothing is typed in here), runs app.geo.event_flows and returns flow rows labelled
`modelled`. A round whose flows were posted as real data keeps them: see `write`.
"""

from __future__ import annotations

import re

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import LoadError
from app.geo.event_flows import ModelError, Parameters, Place, Snapshot, model_flows
from app.loaders.boundaries import COUNTRY_PCODE
from app.loaders.figures import STORM_DANIEL
from app.loaders.upsert import Counts, upsert
from app.models import Flow, Round

MODEL_SOURCE = (
    "DTM Geo event flow model v1, modelled from published figures (docs/storm-daniel-flow-model.md)"
)
REGION_WORDS = {"east": "LY01", "west": "LY02", "south": "LY03"}
# Hosts in a region with no published count of municipalities: an assumption (see docs).
DEFAULT_HOSTS = 10
_MUNICIPALITIES = re.compile(r"\((\d+) municipalities\)")
_ORIGIN_SHARE = re.compile(r"^share_of_displaced_from_\w+_in_(east|west|south)$")


def places(staged: dict) -> dict[str, Place]:
    population = {p["pcode"]: p["population"] for p in staged["populations"] if p["year"] == 2021}
    out = {}
    for a in staged["admin_areas"]:
        if a["level"] == 2:
            point = to_shape(a["geom"])
            out[a["pcode"]] = Place(
                a["pcode"], a["region_pcode"], point.x, point.y, population.get(a["pcode"])
            )
    return out


def snapshots(figures: list[dict], event: str) -> tuple[dict[str, Snapshot], dict, dict]:
    """(round code -> published snapshot, origin weights, region -> host count)."""
    by_round: dict[str, Snapshot] = {}
    counts_by_round: dict[str, dict[str, int]] = {}
    hosts: dict[str, int] = {}
    level2 = re.compile(r"^LY\d{6}$")
    for f in figures:
        if f["event_slug"] != event or not f["round_code"]:
            continue
        s = by_round.setdefault(f["round_code"], Snapshot(total=0))
        metric, pcode, value = f["metric"], f["pcode"], f["value"]
        if pcode == COUNTRY_PCODE and metric == "displaced_individuals":
            s.total = int(value)
        elif pcode == COUNTRY_PCODE and metric == "displaced_households":
            s.households = int(value)
        elif pcode in REGION_WORDS.values() and metric == "displaced_individuals":
            s.region_total[pcode] = int(value)
            if m := _MUNICIPALITIES.search(f["geography"]):
                hosts[pcode] = int(m.group(1))
        elif pcode in REGION_WORDS.values() and metric == "share_of_displaced":
            s.region_share[pcode] = float(value)
        elif pcode and level2.match(pcode) and metric == "idps_hosted":
            s.hosted[pcode] = int(value)
        elif pcode and level2.match(pcode) and metric == "share_of_displaced_hosted":
            s.hosted_share[pcode] = float(value)
        elif pcode and (m := _ORIGIN_SHARE.match(metric)):
            s.origin_share_in_region[(pcode, REGION_WORDS[m.group(1)])] = float(value)
        elif pcode and level2.match(pcode) and metric == "displaced_individuals":
            counts_by_round.setdefault(f["round_code"], {})[pcode] = int(value)
    # Origins: the snapshot that named the most baladiyas of displacement.
    origin_weights = max(counts_by_round.values(), key=len, default={})
    modelled = {code: s for code, s in by_round.items() if s.total and (s.hosted or s.hosted_share)}
    return modelled, origin_weights, hosts


def flow_rows(staged: dict, event: str = STORM_DANIEL) -> list[dict]:
    """Modelled idp flow rows (with `round_code`) for each snapshot that can be modelled."""
    modelled, origin_weights, hosts = snapshots(staged["published_figures"], event)
    if not modelled or not origin_weights:
        return []
    where = places(staged)
    params = Parameters(
        epicentre=max(origin_weights, key=lambda k: (origin_weights[k], k)),
        origin_weights=origin_weights,
        hosts_per_region={r: hosts.get(r, DEFAULT_HOSTS) for r in REGION_WORDS.values()},
    )
    sources = {
        f["round_code"]: f["source_url"]
        for f in staged["published_figures"]
        if f["pcode"] == COUNTRY_PCODE and f["metric"] == "displaced_individuals"
    }
    rows = []
    for code, snapshot in sorted(modelled.items()):
        try:
            flows = model_flows(snapshot, where, params)
        except ModelError as exc:
            raise LoadError(f"flow model for round {code}", str(exc)) from None
        rows += [
            {
                "round_code": code,
                "population_type": "idp",
                "origin_pcode": f.origin,
                "destination_pcode": f.destination,
                "individuals": f.individuals,
                "households": f.households,
                "source": MODEL_SOURCE,
                "source_url": sources.get(code),
                "quality": "modelled",
            }
            for f in flows
        ]
    return rows


def write(session: Session, rows: list[dict]) -> Counts:
    """Upsert the modelled flows round by round, pruning stale modelled rows.

    A round and population type that already holds flows of another quality (real data
    posted through ingest) is left alone: real flows replace modelled ones, never the
    other way round.
    """
    ids = dict(session.execute(select(Round.code, Round.id)).all())
    real = set(
        session.execute(
            select(Flow.round_id, Flow.population_type).where(Flow.quality != "modelled")
        ).all()
    )
    counts = Counts()
    by_round: dict[tuple[int, str], list[dict]] = {}
    for r in rows:
        row = {k: v for k, v in r.items() if k != "round_code"} | {"round_id": ids[r["round_code"]]}
        by_round.setdefault((row["round_id"], row["population_type"]), []).append(row)
    for (round_id, population_type), group in sorted(by_round.items()):
        if (round_id, population_type) in real:
            continue
        counts += upsert(
            session,
            Flow.__table__,
            group,
            ["round_id", "population_type", "origin_pcode", "destination_pcode"],
            prune_where={
                "round_id": round_id,
                "population_type": population_type,
                "quality": "modelled",
            },
        )
    return counts
