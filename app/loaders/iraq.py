"""Iraq, DTM Geo's second operation: COD-AB boundaries, the DTM API's IDP records for
rounds 1-132, and the Master List's locations for Round 123, read into rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.loaders import dtm_api, iraq_cod, iraq_master_list
from app.names import match_key

OPERATION = "IRQ"
API_DIR = "iom_dtm_api_iraq"
API_FILES = {
    level: f"{API_DIR}/idpadmin{level}data-getadmin{level}datav2-admin0pcode-irq.json"
    for level in (0, 1, 2)
}
API_URL = (
    "https://raw.githubusercontent.com/OCHA-DAP/hdx-scraper-iom-dtm/"
    "47f6fa328f9ab7c64d5c719fd0883d6db17533d1/tests/fixtures/input/"
)
SOURCE_FILES = [*iraq_cod.SOURCE_FILES, *API_FILES.values(), iraq_master_list.FILE]
API_PROVIDER = "IOM DTM API"


@dataclass
class IraqRows:
    admin_areas: list[dict] = field(default_factory=list)
    admin_area_names: list[dict] = field(default_factory=list)
    rounds: list[dict] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)
    dtm_pcodes: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def iraq_rows(data_dir: Path, operation: dtm_api.ApiOperation, extra_names: list[dict]) -> IraqRows:
    """Every Iraq row; `extra_names` are the catalogue's spellings of Iraq's areas."""
    cod = iraq_cod.cod_rows(data_dir)
    cod_pcodes = {a["pcode"] for a in cod["admin_areas"]}
    records = {
        level: dtm_api.parse_records(dtm_api.read_response(data_dir / file, file), level, file)
        for level, file in API_FILES.items()
    }
    urls = {level: API_URL + Path(file).name for level, file in API_FILES.items()}
    api = dtm_api.api_rows(
        operation,
        records,
        cod_pcodes,
        urls,
        skip_rounds=frozenset({iraq_master_list.ROUND_CODE}),
    )
    names = cod["admin_area_names"] + [
        {
            "pcode": pcode,
            "name": name,
            "lang": "en",
            "kind": "provider",
            "provider": API_PROVIDER,
            "match_key": match_key(name),
        }
        for pcode, spelt in sorted(api.provider_names.items())
        for name in sorted(spelt)
    ]
    other: dict[str, set[str]] = {}
    for n in [*names, *extra_names]:
        if n["lang"] == "en" and n["kind"] != "official":
            other.setdefault(n["pcode"], set()).add(n["name"])
    placing = iraq_master_list.cod_of(cod["admin_areas"], other)
    listed = iraq_master_list.master_list_rows(data_dir, placing)
    names += iraq_master_list.spelling_names(placing)
    rounds = api.rounds
    for r in rounds:
        r["all_areas_assessed"] = r["code"] in api.complete_rounds
    return IraqRows(
        admin_areas=cod["admin_areas"] + listed.admin_areas,
        admin_area_names=names + listed.admin_area_names,
        rounds=rounds,
        observations=api.observations + listed.observations,
        dtm_pcodes=api.dtm_pcodes,
        notes=api.notes + listed.notes + _round_123(api, records, listed.district_totals),
    )


def _round_123(api: dtm_api.ApiRows, records: dict, totals: dict[str, int]) -> list[str]:
    """The Master List's sums per district beside the DTM API's Round 123 records."""
    mapping = {r["dtm_pcode"]: r["pcode"] for r in api.dtm_pcodes}
    published = {
        mapping[r.api_pcode]: r.individuals
        for r in records[2]
        if r.round_number == 123 and r.api_pcode in mapping
    }
    differ = [
        f"{p} (API {published.get(p, 0):,}, Master List {totals.get(p, 0):,})"
        for p in sorted(set(published) | set(totals))
        if published.get(p, 0) != totals.get(p, 0)
    ]
    agree = sum(1 for p, n in published.items() if totals.get(p, 0) == n)
    head = (
        "Round 123: the Master List's sums per district agree with the DTM API's district "
        f"records in {agree} of {len(published)} districts"
    )
    return [head + ("" if not differ else "; they differ in " + ", ".join(differ))]
