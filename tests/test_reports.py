"""Round reports (GET /api/v1/reports/{round}, `dtm-geo report`): the key figures as the
statistics API gives them, in English and Arabic, byte for byte the same on a second
request, and the failure paths."""

from __future__ import annotations

import pytest

from tests.poppler import pdf_text
from tests.test_cli import assert_one_line_error, run_cli


def _round(client, operation: str, number: int) -> str:
    rounds = client.get("/api/v1/rounds", params={"operation": operation}).json()["data"]
    found = [r["code"] for r in rounds if r["number"] == number]
    assert found, f"no round {number} in {operation}"
    return found[0]


def _national(client, operation: str, code: str) -> dict[str, dict]:
    """The operation's totals of a round per population type, from GET /api/v1/stats."""
    rows = client.get(
        "/api/v1/stats", params={"operation": operation, "round": code, "level": 0}
    ).json()["data"]
    return {r["population_type"]: r for r in rows if r["displacement_reason"] is None}


def _written(value: int, lang: str) -> str:
    """A number as the page writes it (Intl, "en" or "ar-LY": Latin digits)."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "ar" else text


@pytest.fixture(scope="module")
def libya_r39(client) -> str:
    return _round(client, "LBY", 39)


@pytest.fixture(scope="module")
def iraq_r132(client) -> str:
    return _round(client, "IRQ", 132)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_libya_round_39_report_holds_the_api_figures(client, libya_r39, lang, tmp_path):
    response = client.get(f"/api/v1/reports/{libya_r39}", params={"lang": lang})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content, tmp_path)
    national = _national(client, "LBY", libya_r39)
    assert set(national) == {"idp", "returnee"}  # Round 39 has no migrant figures
    for row in national.values():
        assert _written(row["individuals"], lang) in text
        assert _written(row["households"], lang) in text
    if lang == "ar":
        for word in ("تقرير", "الجولة", "ليبيا", "النازحون", "العائدون"):
            assert word in text, word
    else:
        assert "Round 39" in text and "Libya" in text and "Key figures" in text


def test_the_change_is_the_change_api_s(client, libya_r39, tmp_path):
    """The change since the previous round of the same kind (R38), absolute and percent,
    as GET /api/v1/stats/change gives it, written as the page writes it."""
    change = client.get(
        "/api/v1/stats/change",
        params={"from_round": "R38", "to_round": libya_r39, "level": 0},
    ).json()["data"]
    text = pdf_text(client.get(f"/api/v1/reports/{libya_r39}").content, tmp_path)
    assert "Change since R38" in text
    for row in change:
        if row["displacement_reason"] is not None:
            continue
        sign = "+" if row["change"] > 0 else ""
        percent = f"{row['change_percent']:.1f}"
        assert f"{sign}{row['change']:,} ({sign}{percent}%)" in text


def test_a_type_without_figures_is_said_not_drawn(client, libya_r39):
    page = client.get(f"/api/v1/reports/{libya_r39}", params={"format": "html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    body = page.text
    assert "Migrants: this round has no figures, so no map is drawn." in body
    assert 'data-population-type="migrant"' not in body
    for kind in ("idp", "returnee"):  # a map per level for each type with figures
        assert body.count(f'data-population-type="{kind}"') == 2
    assert "100 of 100 baladiyas assessed" in body
    assert 'id="map-furniture"' in body  # scale bar and north arrow


def test_the_arabic_page_is_right_to_left(client, libya_r39):
    body = client.get(f"/api/v1/reports/{libya_r39}", params={"format": "html", "lang": "ar"}).text
    assert '<html lang="ar" dir="rtl">' in body
    assert "تقرير الجولة" in body and "الأرقام الرئيسية" in body


def test_iraq_round_132_report(client, iraq_r132, tmp_path):
    response = client.get(f"/api/v1/reports/{iraq_r132}", params={"operation": "IRQ"})
    assert response.status_code == 200, response.text
    text = pdf_text(response.content, tmp_path)
    national = _national(client, "IRQ", iraq_r132)
    assert national, "Iraq's Round 132 has national figures"
    for row in national.values():
        assert _written(row["individuals"], "en") in text
    assert "Iraq" in text and "Round 132" in text
    arabic = pdf_text(
        client.get(f"/api/v1/reports/{iraq_r132}", params={"lang": "ar"}).content, tmp_path
    )
    assert "العراق" in arabic
    for row in national.values():
        assert _written(row["individuals"], "ar") in arabic


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_a_second_request_gives_the_same_bytes(client, libya_r39, fmt):
    first = client.get(f"/api/v1/reports/{libya_r39}", params={"format": fmt, "lang": "ar"})
    second = client.get(f"/api/v1/reports/{libya_r39}", params={"format": fmt, "lang": "ar"})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]


def test_a_report_rendered_again_gives_the_same_bytes(engine, libya_r39):
    """Not from the cache: rendered twice from the database, the same file (no
    timestamps, a fixed PDF identifier)."""
    from sqlalchemy.orm import Session

    from app.reports import build

    with Session(engine) as session:
        first, _ = build(session, libya_r39, None, "en", "pdf")
        second, _ = build(session, libya_r39, None, "en", "pdf")
    assert first == second
    assert b"/CreationDate" not in first and b"/ModDate" not in first


def test_unknown_round_or_operation_is_404(client, libya_r39):
    response = client.get("/api/v1/reports/R999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "R999" in response.json()["detail"]
    response = client.get(f"/api/v1/reports/{libya_r39}", params={"operation": "XYZ"})
    assert response.status_code == 404
    assert "XYZ" in response.json()["detail"]
    # a Libyan round asked for as Iraq's
    storm = "/api/v1/reports/storm-daniel-2023-09-11"
    assert client.get(storm, params={"operation": "IRQ"}).status_code == 404


@pytest.mark.parametrize(
    ("params", "parameter"), [({"lang": "fr"}, "lang"), ({"format": "docx"}, "format")]
)
def test_bad_lang_or_format_is_422_naming_it(client, libya_r39, params, parameter):
    response = client.get(f"/api/v1/reports/{libya_r39}", params=params)
    assert response.status_code == 422
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


def test_the_cli_writes_a_report(db_url, libya_r39, tmp_path):
    target = tmp_path / "r39-ar.pdf"
    result = run_cli("report", libya_r39, "--lang", "ar", "-o", str(target), DATABASE_URL=db_url)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"%PDF-")
    assert "الجولة" in pdf_text(target.read_bytes(), tmp_path)


def test_the_cli_fails_in_one_line_for_an_unknown_round(db_url, tmp_path):
    target = tmp_path / "none.pdf"
    result = run_cli("report", "R999", "-o", str(target), DATABASE_URL=db_url)
    assert_one_line_error(result, "unknown round 'R999'")
    assert not target.exists()


def test_a_flash_update_says_it_is_partial_and_gives_the_event_timeline(client):
    """Storm Daniel's update of 31 October 2023: figures for one mantika (partial, said
    plainly), migrants as a national figure only (no map), the event's published
    timeline, and the change against the previous flash update (not a mobility round)."""
    code = "storm-daniel-2023-10-31"
    body = client.get(f"/api/v1/reports/{code}", params={"format": "html"}).text
    assert "flash update 31 October 2023" in body
    assert "IDPs: 1 of 22 mantikas assessed" in body
    assert "This round is partial" in body
    assert "Migrants: this round has a national figure only" in body
    assert "Event timeline" in body and "displaced_individuals" in body
    previous = client.get(
        "/api/v1/stats/change",
        params={"from_round": "storm-daniel-2023-10", "to_round": code, "level": 0},
    ).json()["data"]
    idp = next(r for r in previous if r["population_type"] == "idp")
    assert "Change since storm-daniel-2023-10: " in body
    assert f">+{idp['change']:,} (" in body
