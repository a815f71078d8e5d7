"""Reading Iraq's files: COD-AB Iraq, the DTM API's v2 records, the Master List (no
database: these are the rows the loader writes)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from app.errors import LoadError
from app.loaders import catalog, dtm_api, iraq, iraq_cod
from app.loaders.dtm_api import ApiOperation

IRAQ = ApiOperation("IRQ", "IQ", "IRQ-", "Iraq conflict", "Iraq")


@pytest.fixture(scope="module")
def rows(data_dir: Path) -> iraq.IraqRows:
    spellings = [n for _, n in catalog.alternative_names() if n["pcode"].startswith("IQ")]
    return iraq.iraq_rows(data_dir, IRAQ, spellings)


def test_cod_levels_and_names(data_dir):
    cod = iraq_cod.cod_rows(data_dir)
    assert Counter(a["level"] for a in cod["admin_areas"]) == {0: 1, 1: 18, 2: 101, 3: 294}
    by_pcode = {a["pcode"]: a for a in cod["admin_areas"]}
    assert by_pcode["IRQ"]["ocha_pcode"] == "IQ" and by_pcode["IRQ"]["parent_pcode"] is None
    falluja = by_pcode["IQG01Q01"]
    assert (falluja["name_en"], falluja["name_ar"], falluja["parent_pcode"]) == (
        "Al-Falluja",
        "الفلوجة",
        "IQG01",
    )
    assert by_pcode["IQG07Q02N02"]["parent_pcode"] == "IQG07Q02"
    names = {(n["pcode"], n["lang"]) for n in cod["admin_area_names"]}
    assert {("IQG01Q01", "en"), ("IQG01Q01", "ar")} <= names


def test_round_132_districts_add_up_to_the_national_record(rows):
    r132 = [o for o in rows.observations if o["round_code"] == "IRQ-R132"]
    assert {o["pcode"][:3] for o in r132} == {"IQG"} and all(len(o["pcode"]) == 8 for o in r132)
    # the API holds 99 district records for round 132 (Al-Chibayish's last is round 126)
    assert len(r132) == 99
    assert sum(o["individuals"] for o in r132) == 1_098_913
    assert "IQG17Q01" not in {o["pcode"] for o in r132}


def test_round_1_falluja_and_provenance(rows):
    (falluja,) = [
        o for o in rows.observations if o["round_code"] == "IRQ-R1" and o["pcode"] == "IQG01Q01"
    ]
    assert falluja["individuals"] == 96_978
    assert falluja["quality"] == "published"
    assert falluja["source"] == "IOM DTM API IdpAdmin2Data, Iraq conflict"
    assert falluja["source_url"].endswith("idpadmin2data-getadmin2datav2-admin0pcode-irq.json")


def test_rounds_each_stored_once_at_their_finest_level(rows):
    assert len(rows.rounds) == 80 and len({r["number"] for r in rows.rounds}) == 79
    repeated = sorted((r["code"], r["reporting_date"]) for r in rows.rounds if r["number"] == 48)
    assert repeated == [("IRQ-R48", date(2016, 4, 1)), ("IRQ-R48-2016-06", date(2016, 6, 1))]
    level = {a["pcode"]: a["level"] for a in rows.admin_areas}
    stored = {(o["round_code"], level[o["pcode"]]) for o in rows.observations}
    codes = Counter(code for code, _ in stored)
    assert max(codes.values()) == 1, "a round stored at two levels"
    assert {lv for _, lv in stored} == {2, 4}
    assert ("IRQ-R123", 4) in stored
    assert all(r["all_areas_assessed"] for r in rows.rounds)


def test_al_salman_has_no_record(rows):
    assert "IQG03Q03" not in {o["pcode"] for o in rows.observations}
    assert "IQG03Q03" not in {c["pcode"] for c in rows.dtm_pcodes}


def test_national_records_agree_with_their_districts(rows):
    assert rows.notes[0] == (
        "DTM API Iraq: national record and the sum of the finest records agree in 80 of 80 rounds"
    )


def test_master_list_round_123(rows):
    locations = [a for a in rows.admin_areas if a["level"] == 4]
    assert len(locations) == 2_842
    r123 = [o for o in rows.observations if o["round_code"] == "IRQ-R123"]
    assert len(r123) == 2_842 and {o["pcode"][:3] for o in r123} == {"IQL"}
    assert sum(o["individuals"] for o in r123) == 1_189_581
    assert sum(o["households"] for o in r123) == 204_344
    sub_districts = {a["pcode"] for a in rows.admin_areas if a["level"] == 3}
    assert {a["parent_pcode"] for a in locations} <= sub_districts
    assert any("agree with the DTM API's district records in 100 of 100" in n for n in rows.notes)
    assert any("181 points lie outside the district DTM names" in n for n in rows.notes)


def test_crosswalk_maps_api_pcodes_that_cod_holds():
    mapped = dtm_api.crosswalk(
        IRAQ, {"IRQ", "IRQ-G01", "IRQ-G01Q01", "IRQ-G99"}, {"IRQ", "IQG01", "IQG01Q01"}
    )
    assert mapped == {"IRQ": "IRQ", "IRQ-G01": "IQG01", "IRQ-G01Q01": "IQG01Q01"}
    # v3 writes COD's own pcodes
    assert dtm_api.crosswalk(IRAQ, {"IQG01"}, {"IQG01"}) == {"IQG01": "IQG01"}


def _record(**over) -> dict:
    base = {
        "id": 7,
        "admin2Pcode": "IRQ-G01Q01",
        "admin2Name": "Al-Falluja",
        "numPresentIdpInd": 10,
        "reportingDate": "2014-04-01T00:00:00",
        "roundNumber": 1,
    }
    return {**base, **over}


def test_unknown_pcode_is_reported_not_dropped():
    records = {
        2: dtm_api.parse_records([_record(), _record(id=8, admin2Pcode="IRQ-G77Q01")], 2, "f")
    }
    out = dtm_api.api_rows(IRAQ, records, {"IRQ", "IQG01", "IQG01Q01"}, {0: "u", 2: "u"})
    assert [r.id for r in out.unmapped] == [8]
    assert any("record 8" in n and "IRQ-G77Q01" in n for n in out.notes)
    assert [o["pcode"] for o in out.observations] == ["IQG01Q01"]


def test_national_record_that_disagrees_is_said():
    records = {
        0: dtm_api.parse_records(
            [{**_record(), "admin0Pcode": "IRQ", "numPresentIdpInd": 11}], 0, "f"
        ),
        2: dtm_api.parse_records([_record()], 2, "f"),
    }
    out = dtm_api.api_rows(IRAQ, records, {"IRQ", "IQG01Q01"}, {0: "u", 2: "u"})
    assert "they differ in IRQ-R1: national 11, sum 10" in out.notes[0]
    assert out.complete_rounds == set()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_record(numPresentIdpInd=-5), "record 1 (id 7): numPresentIdpInd"),
        (_record(roundNumber="one"), "roundNumber 'one' is not a round number"),
        (_record(reportingDate="soon"), "reportingDate 'soon' is not a date"),
        ({"id": 9, "roundNumber": 1}, "record 1 (id 9): missing field"),
    ],
)
def test_malformed_records_name_the_record(record, message):
    with pytest.raises(LoadError) as err:
        dtm_api.parse_records([record], 2, "iom_dtm_api_iraq/x.json")
    assert message in str(err.value)
    assert str(err.value).startswith("iom_dtm_api_iraq/x.json")


def test_an_unsuccessful_response_is_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps({"result": [], "isSuccess": False, "errorMessages": ["Invalid key"]})
    )
    with pytest.raises(LoadError, match="the DTM API answered with an error: Invalid key"):
        dtm_api.read_response(path, "r.json")
    path.write_text("[1, 2]")
    with pytest.raises(LoadError, match="not a DTM API response"):
        dtm_api.read_response(path, "r.json")
