"""Statistics rows shaped for output: wide tables and their HXL-tagged columns."""

from __future__ import annotations

from collections.abc import Iterable

from app.vocabulary import ADMIN_LEVELS, PLURAL

LEVEL_PREFIX = {level: f"admin{level}" for level in ADMIN_LEVELS}

# column -> HXL hashtag (HDX conventions; Arabic names carry +i_ar)
HXL = {
    "round_code": "#round+code",
    "round_number": "#round+num",
    "round_kind": "#round+type",
    "event_slug": "#event+code",
    "reporting_date": "#date+reported",
    "admin0_pcode": "#country+code",
    "admin1_pcode": "#adm1+code",
    "admin1_name_en": "#adm1+name+i_en",
    "admin1_name_ar": "#adm1+name+i_ar",
    "admin2_pcode": "#adm2+code",
    "admin2_name_en": "#adm2+name+i_en",
    "admin2_name_ar": "#adm2+name+i_ar",
    "admin3_pcode": "#adm3+code",
    "admin3_name_en": "#adm3+name+i_en",
    "admin3_name_ar": "#adm3+name+i_ar",
    "admin4_pcode": "#loc+code",
    "admin4_name_en": "#loc+name+i_en",
    "admin4_name_ar": "#loc+name+i_ar",
    "displacement_reason": "#cause+displacement",
    "idps": "#affected+idps",
    "idp_households": "#affected+idps+hh",
    "returnees": "#affected+returnees",
    "returnee_households": "#affected+returnees+hh",
    "migrants": "#affected+migrants",
    "migrant_households": "#affected+migrants+hh",
    "idps_per_1000": "#affected+idps+per1000",
    "returnees_per_1000": "#affected+returnees+per1000",
    "migrants_per_1000": "#affected+migrants+per1000",
    "population": "#population+total",
    "population_year": "#date+year+population",
    "quality": "#meta+quality",
    "complete": "#meta+complete",
    "sources": "#meta+source",
}

_WORST = {"published": 0, "modelled": 1, "synthetic": 2}


_ANCESTRY = ("", "parent_", "grandparent_")  # the row's own columns, then its ancestors'


def area_columns(row: dict) -> dict:
    """The area of a row as DTM-named columns: admin0 to its own level, pcode and names
    (a muhalla row carries its baladiya as parent and its mantika as grandparent)."""
    out = {"admin0_pcode": row["ancestry"][0]}
    for up, prefix in enumerate(_ANCESTRY):
        level = row["level"] - up
        if level < 1:
            break
        out[f"admin{level}_pcode"] = row[f"{prefix}pcode"]
        out[f"admin{level}_name_en"] = row[f"{prefix}name_en"]
        out[f"admin{level}_name_ar"] = row[f"{prefix}name_ar"]
    return out


def wide(rows: Iterable[dict], level: int, by_reason: bool = True) -> list[dict]:
    """One row per (round, area[, reason]) with a column per population type.

    With `by_reason=False` reasons are collapsed per area: the reason-less total when
    one is stored, otherwise the sum over reasons.
    """
    out: dict[tuple, dict] = {}
    totals_present = {
        (r["round_code"], r["pcode"], r["population_type"])
        for r in rows
        if r["displacement_reason"] is None
    }
    for r in rows:
        reason = r["displacement_reason"]
        if not by_reason:
            if reason is not None and (r["round_code"], r["pcode"], r["population_type"]) in (
                totals_present
            ):
                continue
            reason = None
        key = (r["round_code"], r["pcode"], reason)
        target = out.get(key)
        if target is None:
            target = out[key] = {
                "round_code": r["round_code"],
                "round_number": r["round_number"],
                "round_kind": r["round_kind"],
                "event_slug": r["event_slug"],
                "reporting_date": r["reporting_date"],
                **area_columns(r),
                "displacement_reason": reason,
                "population": r["population"],
                "population_year": r["population_year"],
                "quality": r["quality"],
                "complete": True,
                "sources": [],
            }
        name = PLURAL[r["population_type"]]
        singular = r["population_type"]
        target[name] = (target.get(name) or 0) + r["individuals"]
        households = r["households"]
        prior = target.get(f"{singular}_households", 0)
        target[f"{singular}_households"] = (
            None if households is None or prior is None else prior + households
        )
        if r["population"]:
            target[f"{name}_per_1000"] = round(target[name] * 1000 / r["population"], 3)
        if _WORST[r["quality"]] > _WORST[target["quality"]]:
            target["quality"] = r["quality"]
        target["complete"] = target["complete"] and r["complete"]
        target["sources"] = sorted(set(target["sources"]) | set(r["sources"] or ()))
    return list(out.values())


def columns(rows: list[dict], level: int) -> list[str]:
    """The columns of a wide table, in HXL order: those of the level and those present."""
    return [c for c in HXL if c in _present_columns(rows, level)]


def _present_columns(rows: list[dict], level: int) -> set[str]:
    present = {
        "round_code",
        "round_number",
        "round_kind",
        "event_slug",
        "reporting_date",
        "admin0_pcode",
        "displacement_reason",
        "population",
        "population_year",
        "quality",
        "complete",
        "sources",
    }
    if level >= 1:
        present |= {"admin1_pcode", "admin1_name_en", "admin1_name_ar"}
    if level >= 2:
        present |= {"admin2_pcode", "admin2_name_en", "admin2_name_ar"}
    if level == 3:
        present |= {"admin3_pcode", "admin3_name_en", "admin3_name_ar"}
    for row in rows:
        present |= {k for k in row if k in HXL}
    return present
