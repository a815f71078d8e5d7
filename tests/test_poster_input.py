"""What a key holder posts can harm no reader: every write error is a problem document,
URLs are http(s) only, CSV cells never run as formulas, HTML pages carry a strict CSP,
and a round's metadata change keeps the values it replaced."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from app.api.writers import csv_body, neutralise
from app.auth import create_key
from app.db import session_scope
from app.web import ogc_html
from app.weburl import linkable, web_url

pytestmark = pytest.mark.usefixtures("scratch_rounds")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM = "application/problem+json"
EVIL = "javascript:alert(document.cookie)//https://dtm.iom.int"


@pytest.fixture(scope="module")
def keys(db_url, first_load):
    with session_scope(db_url) as session:
        return {
            "ingest": create_key(session, "poster-ingest", ["ingest"]),
            "read": create_key(session, "poster-read", ["read"]),
        }


def round_body(**extra):
    return {
        "kind": "mobility_tracking",
        "title": "test round",
        "reporting_date": "2025-01-31",
        "source": "IOM DTM Libya",
        **extra,
    }


def put_round(client, keys, code, **extra):
    return client.put(
        f"/api/v1/rounds/{code}", json=round_body(**extra), headers={"X-API-Key": keys["ingest"]}
    )


# --- every write-route error is the one problem model -----------------------------------


def test_every_write_route_error_is_a_problem_with_its_status(client, keys):
    assert put_round(client, keys, "T-ERR").status_code in (200, 201)
    ingest, read = {"X-API-Key": keys["ingest"]}, {"X-API-Key": keys["read"]}
    rows = {"source": "s", "rows": [{"pcode": "LY010102", "population_type": "idp"}]}
    cases = [
        # (method, path, kwargs, status)
        ("put", "/api/v1/rounds/T-ERR", {"json": round_body()}, 401),
        ("put", "/api/v1/rounds/T-ERR", {"json": round_body(), "headers": read}, 403),
        ("delete", "/api/v1/rounds/T-ERR", {"headers": ingest}, 403),
        ("post", "/api/v1/rounds/T-ERR/observations", {"json": rows}, 401),
        (
            "post",
            "/api/v1/rounds/T-ERR/observations?mode=replace",
            {"json": rows, "headers": ingest},
            403,
        ),
        (
            "post",
            "/api/v1/rounds/T-ERR/observations",
            {"content": b"{not json", "headers": {**ingest, "Content-Type": "application/json"}},
            422,
        ),
        (
            "post",
            "/api/v1/rounds/T-ERR/observations",
            {"content": b"a", "headers": {**ingest, "Content-Type": "text/plain"}},
            415,
        ),
        (
            "post",
            "/api/v1/rounds/T-ERR/observations",
            {"json": {"rows": []}, "headers": ingest},
            422,  # no source
        ),
        (
            "post",
            "/api/v1/rounds/T-ERR/flows",
            {"json": {"source": "s", "quality": "guessed", "rows": []}, "headers": ingest},
            422,
        ),
        (
            "post",
            "/api/v1/rounds/T-ERR/files?source=s",
            {"content": b"x" * 10, "headers": {**ingest, "Content-Type": "image/png"}},
            415,
        ),
        (
            "post",
            "/api/v1/rounds/T-ERR/files?source=s",
            {"content": b"not a zip", "headers": {**ingest, "Content-Type": XLSX}},
            422,
        ),
        (
            "put",
            "/api/v1/rounds/T-ERR",
            {"json": round_body(kind="flash_update"), "headers": ingest},
            422,  # event_slug required
        ),
        (
            "put",
            "/api/v1/rounds/T-ERR",
            {"json": round_body(), "headers": {**ingest, "If-Match": '"round-T-ERR-r99"'}},
            412,
        ),
        (
            "put",
            "/api/v1/rounds/T-ERR",
            {
                "content": b"{" + b" " * (65 * 1024) + b"}",
                "headers": {**ingest, "Content-Type": "application/json"},
            },
            413,
        ),
        ("get", "/api/v1/rounds/T-NONE/history", {}, 404),
        ("get", "/api/v1/submissions/999999999", {}, 404),
        ("post", "/api/v1/rounds/T-NONE/observations", {"json": rows, "headers": ingest}, 404),
    ]
    for method, path, kwargs, status in cases:
        response = getattr(client, method)(path, **kwargs)
        where = f"{method.upper()} {path} -> {response.status_code}: {response.text[:200]}"
        assert response.status_code == status, where
        assert response.headers["content-type"].startswith(PROBLEM), where
        body = response.json()
        assert body["status"] == status and body["title"] and body["detail"], where
    assert client.put("/api/v1/rounds/T-ERR", json=round_body()).headers["WWW-Authenticate"]


def test_a_busy_round_is_409_with_retry_after_as_a_problem(client, keys, db_url):
    assert put_round(client, keys, "T-BUSY").status_code in (200, 201)
    with session_scope(db_url) as session:  # holds the round's lock while the PUT waits
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('dtm-geo-round:T-BUSY'))"))
        client.app.state.write_sessionmaker.kw["info"]["round_lock_wait"] = 0.2
        try:
            response = put_round(client, keys, "T-BUSY", title="changed")
        finally:
            client.app.state.write_sessionmaker.kw["info"]["round_lock_wait"] = 5.0
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["Retry-After"]) >= 1


# --- URLs: http(s) only, everywhere a poster's URL is stored ----------------------------


@pytest.mark.parametrize(
    "url",
    [
        EVIL,
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https://good.org@evil.example/",
        "http://",
        "https://dtm.iom.int/a b",
        "https://dtm.iom.int/a\x07b",
        "https://dtm.iom.int/a\u0085b",
        "ftp://dtm.iom.int/file",
    ],
)
def test_the_one_url_rule_refuses_what_is_not_a_web_address(url):
    with pytest.raises(ValueError, match="http:// or https://"):
        web_url(url)
    assert not linkable(url)


def test_the_one_url_rule_takes_web_addresses():
    assert web_url("https://dtm.iom.int/libya?x=1#a") == "https://dtm.iom.int/libya?x=1#a"
    assert web_url("HTTP://127.0.0.1:8000/درنة") == "HTTP://127.0.0.1:8000/درنة"
    assert web_url("https://dtm.iom.int/\n") == "https://dtm.iom.int/"
    assert web_url(None) is None
    for not_one in ("", " https://dtm.iom.int", "https://dtm.iom.int/\n\n"):
        with pytest.raises(ValueError):
            web_url(not_one)
    assert linkable("/ogc/collections?f=html") and not linkable("//evil.example")


def test_every_stored_url_is_checked(client, keys, engine):
    ingest = {"X-API-Key": keys["ingest"]}
    refused = put_round(client, keys, "T-URL", source_url=EVIL)
    assert refused.status_code == 422 and "source_url" in refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert put_round(client, keys, "T-URL", source_url="https://dtm.iom.int/libya").status_code in (
        200,
        201,
    )
    rows = [{"pcode": "LY010102", "population_type": "idp", "individuals": 5}]
    for dataset in ("observations", "flows", "nationalities"):
        response = client.post(
            f"/api/v1/rounds/T-URL/{dataset}",
            json={"source": "s", "source_url": EVIL, "rows": rows},
            headers=ingest,
        )
        assert response.status_code == 422, dataset
        assert response.json()["errors"][0]["parameter"] == "source_url"
    upload = client.post(
        "/api/v1/rounds/T-URL/files",
        params={"source": "s", "source_url": EVIL},
        content=b"pcode,population_type,individuals\r\nLY010102,idp,5\r\n",
        headers={**ingest, "Content-Type": "text/csv"},
    )
    assert upload.status_code == 422 and "source_url" in upload.text
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT source_url FROM rounds WHERE source_url ILIKE 'javascript%' UNION ALL "
                "SELECT source_url FROM observations WHERE source_url ILIKE 'javascript%'"
            )
        ).all()
    assert stored == []


def test_ogc_html_links_only_web_addresses_and_own_pages():
    page = ogc_html.render(
        "/ogc",
        [],
        {
            "title": "t",
            "links": [
                {"href": EVIL, "rel": "describedby", "title": "evil"},
                {"href": "https://dtm.iom.int/libya", "rel": "about", "title": "DTM"},
                {"href": "/ogc/conformance", "rel": "conformance", "title": "c"},
            ],
        },
    )
    assert 'href="javascript' not in page.lower()
    assert 'href="https://dtm.iom.int/libya"' in page and 'href="/ogc/conformance"' in page


# --- HTML pages: CSP without inline script, nosniff, frame policy -----------------------


@pytest.mark.parametrize(
    "path", ["/", "/docs", "/redoc", "/ogc?f=html", "/ogc/collections/flows/items?f=html"]
)
def test_html_pages_forbid_inline_script_and_framing(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    csp = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    # no 'unsafe-inline', no javascript: URLs, no eval (WebAssembly only: the RTL plugin)
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # the page's own code is in files: no inline <script> body
    for chunk in response.text.split("<script")[1:]:
        head, _, rest = chunk.partition(">")
        assert "src=" in head and rest.startswith("</script>"), chunk[:120]


def test_json_answers_are_not_sniffed(client):
    response = client.get("/api/v1/rounds")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


# --- CSV: formulas neutralised in the one writer -----------------------------------------

FORMULAS = ["+cmd|' /C calc'!A0", "@SUM(1)", '=HYPERLINK("http://x")', "-2+3", "\tx", "\rx"]


def test_the_csv_writer_neutralises_formulas_and_keeps_numbers_and_tags():
    body = csv_body(
        ["a", "b"],
        [{"a": value, "b": -5} for value in FORMULAS] + [{"a": "-12.5", "b": -1.5}],
        hxl={"a": "#meta+source", "b": "#affected"},
    ).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1] == ["#meta+source", "#affected"]  # the HXL row as it is
    assert [r[0] for r in rows[2:-1]] == ["'" + v for v in FORMULAS]
    assert [r[1] for r in rows[2:]] == ["-5"] * len(FORMULAS) + ["-1.5"]
    assert rows[-1][0] == "-12.5"  # a number stays a number
    assert neutralise("Derna") == "Derna" and neutralise("1e5") == "1e5"


def _cells(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]


def test_posted_text_comes_out_of_every_csv_as_text(client, keys):
    ingest = {"X-API-Key": keys["ingest"]}
    assert put_round(client, keys, "T-CSV", number=9001).status_code in (200, 201)
    observations = client.post(
        "/api/v1/rounds/T-CSV/observations",
        json={
            "source": FORMULAS[0],
            "rows": [{"pcode": "LY010102", "population_type": "idp", "individuals": 7}],
        },
        headers=ingest,
    )
    assert observations.status_code == 200, observations.text
    flows = client.post(
        "/api/v1/rounds/T-CSV/flows",
        json={
            "source": FORMULAS[1],
            "rows": [
                {
                    "population_type": "idp",
                    "origin_pcode": "LY010102",
                    "destination_pcode": "LY010101",
                    "individuals": 7,
                }
            ],
        },
        headers=ingest,
    )
    assert flows.status_code == 200, flows.text
    stats = _cells(client.get("/api/v1/stats", params={"round": "T-CSV", "format": "csv"}))
    assert "'" + FORMULAS[0] in stats and FORMULAS[0] not in stats
    listed = _cells(client.get("/api/v1/flows", params={"round": "T-CSV", "format": "csv"}))
    assert "'" + FORMULAS[1] in listed and FORMULAS[1] not in listed
    ogc = _cells(client.get("/ogc/collections/flows/items", params={"round": "T-CSV", "f": "csv"}))
    assert "'" + FORMULAS[1] in ogc and FORMULAS[1] not in ogc
    assert not any(c.startswith(("=", "+", "@")) for c in stats + listed + ogc)
    # a source that is a negative number stays a number
    again = client.post(
        "/api/v1/rounds/T-CSV/observations",
        json={
            "source": "-12.5",
            "rows": [{"pcode": "LY010102", "population_type": "idp", "individuals": 7}],
        },
        headers=ingest,
    )
    assert again.status_code == 200, again.text
    stats = _cells(client.get("/api/v1/stats", params={"round": "T-CSV", "format": "csv"}))
    assert "-12.5" in stats and "'-12.5" not in stats


# --- history of round metadata ------------------------------------------------------------


def test_a_metadata_change_keeps_the_values_it_replaced(client, keys):
    assert put_round(client, keys, "T-HIST", title="first title").status_code in (200, 201)
    changed = put_round(client, keys, "T-HIST", title="second title")
    assert changed.status_code == 200 and changed.json()["data"]["title"] == "second title"
    history = client.get("/api/v1/rounds/T-HIST/history").json()["data"]
    detail = client.get(f"/api/v1/submissions/{history[-1]['submission_id']}").json()["data"]
    (previous,) = detail["previous_values"]
    assert previous["table_name"] == "rounds" and previous["change"] == "update"
    assert previous["row_key"] == {"code": "T-HIST"}
    assert previous["old_values"]["title"] == "first title"
    assert previous["old_values"]["revision"] == history[0]["round_revision"]
    # an unchanged PUT replaces nothing
    same = put_round(client, keys, "T-HIST", title="second title")
    assert same.status_code == 200
    last = client.get("/api/v1/rounds/T-HIST/history").json()["data"][-1]
    assert (
        client.get(f"/api/v1/submissions/{last['submission_id']}").json()["data"]["previous_values"]
        == []
    )
