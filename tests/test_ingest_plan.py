"""The ingest comparison joins staged rows to stored ones with a hash or merge join.

A join on `IS NOT DISTINCT FROM` can only run as a nested loop comparing every staged row
with every stored row of the round: hours for a re-submission of a large round.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from app.db import get_sessionmaker
from app.ingest import service
from app.ingest.pipeline import Submission, _stage, _value_params, diff_sql, lock_round
from app.ingest.specs import DISPLACEMENT_REASONS, SPECS

pytestmark = pytest.mark.usefixtures("scratch_rounds")


def observations(engine, factor: int) -> list[dict]:
    with engine.connect() as conn:
        pcodes = conn.execute(
            text(
                "SELECT pcode FROM admin_areas WHERE level = 2 AND ancestry[1] = 'LBY' "
                "ORDER BY pcode"
            )
        ).scalars()
        reasons = ("", *DISPLACEMENT_REASONS)  # '' is stored as NULL: the nullable key
        return [
            {
                "line": n,
                "pcode": pcode,
                "population_type": "idp",
                "reason": reason,
                "individuals": str(n * factor),
            }
            for n, (pcode, reason) in enumerate(((p, r) for p in pcodes for r in reasons), start=2)
        ]


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


@pytest.mark.parametrize("dataset", ["observations", "nationalities"])
def test_a_resubmission_is_compared_with_a_hash_or_merge_join(db_url, engine, dataset):
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rounds (operation, code, kind, title, source) VALUES ('LBY', :c, "
                "'mobility_tracking', 'plan', 's')"
            ),
            {"c": f"T-PLAN-{dataset}"},
        )
    rows = observations(engine, 1)
    if dataset == "nationalities":
        rows = [
            {
                "line": r["line"],
                "pcode": r["pcode"],
                "nationality": r["reason"] or "Chad",
                "individuals": r["individuals"],
            }
            for r in rows
        ]
    spec, code = SPECS[dataset], f"T-PLAN-{dataset}"

    def submission(factor: int) -> Submission:
        return Submission(
            spec=spec,
            round_code=code,
            rows=[{**r, "individuals": str(int(r["individuals"]) * factor)} for r in rows],
            source="s",
            payload_sha256=str(factor),
        )

    sessions = get_sessionmaker(db_url)
    status, body = service.submit(sessions, [submission(1)])
    assert status == 200 and body["inserted"] == len(rows), body
    with engine.begin() as conn:
        conn.execute(text(f"ANALYZE {spec.table}"))

    with sessions() as session:
        changed = submission(3)
        round_row = lock_round(session, code)
        _stage(session, spec, changed)

        def plan() -> dict:
            found = session.execute(
                text(f"EXPLAIN (FORMAT JSON) {diff_sql(spec, changed)}"),
                _value_params(changed, round_row),
            ).scalar_one()
            return (found if isinstance(found, list) else json.loads(found))[0]["Plan"]

        chosen = plan()
        # Nested loops banned, the planner shows what else it can run the join as: with
        # IS NOT DISTINCT FROM it has nothing else, and still answers with a nested loop.
        session.execute(text("SET LOCAL enable_nestloop = off"))
        forced = plan()
        session.rollback()
    joins = [
        n["Node Type"] for n in plan_nodes(forced) if n["Node Type"].endswith(("Join", "Loop"))
    ]
    assert joins in (["Hash Join"], ["Merge Join"]), forced
    # Left to itself, a nested loop (fine for a few hundred rows) looks the key up in the
    # natural-key index rather than comparing every pair of rows.
    for node in plan_nodes(chosen):
        if node["Node Type"] == "Nested Loop":
            assert "Join Filter" not in node, chosen
            inner = [n for n in plan_nodes(node["Plans"][1]) if "Index Cond" in n]
            assert inner and "pcode" in inner[0]["Index Cond"], chosen
    assert "NOT DISTINCT" not in json.dumps(chosen) + json.dumps(forced)

    status, body = service.submit(sessions, [submission(3)])
    assert status == 200 and body["updated"] == len(rows) and body["inserted"] == 0, body
