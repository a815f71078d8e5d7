"""The official `dtmapi` client from PyPI, unchanged, against a live DTM Geo server.

Only its endpoint URLs are pointed at the test server (they are module constants in
`dtmapi.api`); requests go over real HTTP to uvicorn, which reads the test PostGIS.
"""

from __future__ import annotations

import dtmapi.api
import pytest
from dtmapi import DTMApi

ENDPOINTS = {
    "IDP_ADMIN_0_API": "/v3/displacement/admin0",
    "IDP_ADMIN_1_API": "/v3/displacement/admin1",
    "IDP_ADMIN_2_API": "/v3/displacement/admin2",
    "COUNTRY_LIST_API": "/v3/displacement/country-list",
    "OPERATION_LIST_API": "/v3/displacement/operation-list",
    "IDP_ADMIN_0_API_V2": "/v2/IdpAdmin0Data",
    "IDP_ADMIN_1_API_V2": "/v2/IdpAdmin1Data",
    "IDP_ADMIN_2_API_V2": "/v2/IdpAdmin2Data",
    "COUNTRY_LIST_API_V2": "/v2/CountryList",
    "OPERATION_LIST_API_V2": "/v2/OperationList",
}


@pytest.fixture
def dtm(live_server, monkeypatch):
    for constant, path in ENDPOINTS.items():
        monkeypatch.setattr(dtmapi.api, constant, live_server + path)
    return lambda version="v3": DTMApi(
        subscription_key="test-key", api_version=version, max_retries=0
    )


def native_idps(client, level: int, **params) -> dict:
    rows = client.get(
        "/api/v1/stats",
        params={"level": level, "population_type": "idp", "limit": 10_000, **params},
    ).json()["data"]
    return {
        (r["round_number"], r["pcode"]): r["individuals"]
        for r in rows
        if r["round_kind"] == "mobility_tracking"
    }


def test_admin0_figures_match_the_native_api(dtm, client):
    frame = dtm().get_idp_admin0_data(CountryName="Libya")
    got = {(int(r.roundNumber), r.admin0Pcode): int(r.numPresentIdpInd) for r in frame.itertuples()}
    assert got == native_idps(client, 0)
    assert got[(50, "LBY")] == 125_802
    assert list(frame.columns)[:3] == ["operation", "admin0Name", "admin0Pcode"]


def test_admin2_by_name_and_round_range(dtm, client):
    frame = dtm().get_idp_admin2_data(
        Operation="Libya Crisis", Admin2Name="Benghazi", FromRoundNumber=1, ToRoundNumber=54
    )
    got = {(int(r.roundNumber), r.admin2Pcode): int(r.numPresentIdpInd) for r in frame.itertuples()}
    assert got == native_idps(client, 2, pcode="LY010304")
    assert got == {(8, "LY010304"): 38_400, (39, "LY010304"): 36_490}


def test_admin2_with_dates(dtm, client):
    frame = dtm().get_idp_admin2_data(
        Admin0Pcode="LBY", FromReportingDate="2017-01-01", ToReportingDate="2017-12-31"
    )
    assert [(r.admin2Pcode, r.numPresentIdpInd) for r in frame.itertuples()] == [
        ("LY010304", 38_400)
    ]
    # Benghazi is one of the mantika's baladiyas: its figure is no figure of the mantika
    mantikas = dtm().get_idp_admin1_data(
        Admin0Pcode="LBY", FromReportingDate="2017-01-01", ToReportingDate="2017-12-31"
    )
    assert len(mantikas) == 0


def test_v2_client_gets_v2_records(dtm):
    v2 = dtm("v2").get_idp_admin0_data(CountryName="Libya")
    v3 = dtm("v3").get_idp_admin0_data(CountryName="Libya")
    assert len(v2) == len(v3) > 0
    assert set(v3.columns) - set(v2.columns) == {
        "displacementReason",
        "numberMales",
        "numberFemales",
        "idpOriginAdmin1Name",
        "idpOriginAdmin1Pcode",
    }


def test_country_and_operation_lists(dtm):
    countries = dtm().get_all_countries()
    assert list(countries["admin0Pcode"]) == ["IRQ", "LBY"]
    operations = dtm("v2").get_all_operations()
    assert list(operations["operation"]) == ["Iraq conflict", "Libya Crisis"]


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_iraq_round_132_districts_as_the_dtm_api_gives_them(dtm, client, version):
    frame = dtm(version).get_idp_admin2_data(
        Operation="Iraq conflict", FromRoundNumber=132, ToRoundNumber=132
    )
    got = {r.admin2Pcode: int(r.numPresentIdpInd) for r in frame.itertuples()}
    assert len(got) == 99 and sum(got.values()) == 1_098_913
    assert got["IRQ-G01Q01"] == 17_124
    native = native_idps(client, 2, operation="IRQ", round=132)
    assert got == {f"IRQ-{pcode[2:]}": n for (_, pcode), n in native.items()}
    assert set(frame["admin0Pcode"]) == {"IRQ"}
