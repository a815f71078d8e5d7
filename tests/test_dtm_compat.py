"""The DTM-API-compatible surface: paths, parameters, envelope, record fields."""

from __future__ import annotations

import pytest

V3_FIELDS = [
    "operation",
    "admin0Name",
    "admin0Pcode",
    "numPresentIdpInd",
    "reportingDate",
    "yearReportingDate",
    "monthReportingDate",
    "roundNumber",
    "displacementReason",
    "numberMales",
    "numberFemales",
    "idpOriginAdmin1Name",
    "idpOriginAdmin1Pcode",
    "assessmentType",
]
V3_ONLY = {
    "displacementReason",
    "numberMales",
    "numberFemales",
    "idpOriginAdmin1Name",
    "idpOriginAdmin1Pcode",
}


def envelope(client, path, **params):
    response = client.get(path, params=params)
    body = response.json()
    assert set(body) == {"result", "statusCode", "isSuccess", "errorMessages", "totalRecordsCount"}
    return response, body


def test_v3_admin0_envelope_and_fields(client):
    response, body = envelope(client, "/v3/displacement/admin0", CountryName="Libya")
    assert response.status_code == 200 and body["isSuccess"] and body["statusCode"] == 200
    assert body["totalRecordsCount"] == len(body["result"]) > 0
    record = body["result"][0]
    assert list(record) == V3_FIELDS  # admin0 records carry no id
    assert record["operation"] == "Libya Crisis" and record["admin0Pcode"] == "LBY"
    assert record["reportingDate"].endswith("T00:00:00")
    assert record["idpOriginAdmin1Pcode"] == "Not available"
    assert record["assessmentType"] == "BA"
    by_round = {r["roundNumber"]: r["numPresentIdpInd"] for r in body["result"]}
    assert by_round[50] == 125_802 and by_round[3] == 417_123


@pytest.mark.parametrize("level", [1, 2])
def test_v3_admin1_and_admin2_records(client, level):
    _, body = envelope(client, f"/v3/displacement/admin{level}", Admin0Pcode="LBY")
    record = body["result"][0]
    assert isinstance(record["id"], int)
    assert record[f"admin{level}Pcode"].startswith("LY")
    # the first is Round 8's Benghazi baladiya, whose mantika has no figure of its own then
    first = {1: (39, "LY0101"), 2: (8, "LY010304")}[level]
    assert (record["roundNumber"], record[f"admin{level}Pcode"]) == first


@pytest.mark.parametrize("level", [0, 1, 2])
def test_v2_records_lack_the_five_v3_additions(client, level):
    _, v2 = envelope(client, f"/v2/IdpAdmin{level}Data", Operation="Libya Crisis")
    _, v3 = envelope(client, f"/v3/displacement/admin{level}", Operation="Libya Crisis")
    assert len(v2["result"]) == len(v3["result"]) > 0
    for old, new in zip(v2["result"], v3["result"], strict=True):
        assert set(new) - set(old) == V3_ONLY
        assert {k: new[k] for k in old} == old


def test_round_and_date_filters(client):
    _, body = envelope(
        client,
        "/v3/displacement/admin0",
        CountryName="Libya",
        FromRoundNumber="12",
        ToRoundNumber="50",
    )
    # the baseline rounds 18-37 with the national IDP totals HDX states (data/published/)
    hdx = [18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32, 36, 37]
    assert [r["roundNumber"] for r in body["result"]] == [12, *hdx, 38, 39, 50]
    _, dated = envelope(
        client,
        "/v3/displacement/admin0",
        CountryName="libya",
        FromReportingDate="2017-01-01",
        ToReportingDate="2018-12-31",
    )
    assert [r["roundNumber"] for r in dated["result"]] == [8, 12, 18, 19, 20, 22, 23]


def test_admin_names_in_any_spelling(client):
    for name in ("Benghazi", "Banghazi", "بنغازي"):
        _, body = envelope(client, "/v3/displacement/admin2", CountryName="Libya", Admin2Name=name)
        assert {r["admin2Pcode"] for r in body["result"]} == {"LY010304"}, name


def test_other_countries_have_no_records(client):
    response, body = envelope(client, "/v3/displacement/admin0", CountryName="Nigeria")
    assert response.status_code == 200 and body["result"] == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "at least one of"),
        ({"CountryName": "Libya", "FromRoundNumber": "x"}, "FromRound"),
        ({"CountryName": "Libya", "FromReportingDate": "31/12/2023"}, "FromReportingDate"),
        ({"CountryName": "Libya", "FromRoundNumber": "54", "ToRoundNumber": "3"}, "FromRound"),
    ],
)
def test_bad_requests_answer_in_the_envelope(client, params, fragment):
    response, body = envelope(client, "/v3/displacement/admin1", **params)
    assert response.status_code == 400
    assert body["isSuccess"] is False and body["statusCode"] == 400
    assert fragment in body["errorMessages"][0]


def test_lists_and_subscription_key_header(client):
    headers = {"Ocp-Apim-Subscription-Key": "anything"}
    for path in ("/v3/displacement/country-list", "/v2/CountryList"):
        body = client.get(path, headers=headers).json()
        assert body["result"] == [
            {"admin0Name": "Iraq", "admin0Pcode": "IRQ"},
            {"admin0Name": "Libya", "admin0Pcode": "LBY"},
        ]
    for path in ("/v3/displacement/operation-list", "/v2/OperationList"):
        body = client.get(path, headers=headers).json()
        assert [o["operation"] for o in body["result"]] == ["Iraq conflict", "Libya Crisis"]


def test_admin_selectors_must_agree(client):
    def count(**params):
        body = client.get("/v3/displacement/admin1", params={"Admin0Pcode": "LBY", **params})
        assert body.status_code == 200 and body.json()["isSuccess"], body.text
        return body.json()["totalRecordsCount"]

    alone = count(Admin1Pcode="LY0103")  # Benghazi, round 8
    assert alone >= 1
    assert count(Admin1Pcode="LY0103", Admin1Name="Benghazi") == alone
    assert count(Admin1Pcode="LY0101", Admin1Name="Benghazi") == 0  # Derna vs Benghazi
