"""What PDFs need beside Python: Pango and the fonts, installed by the set-up as PostGIS is;
without them the service still runs, and a PDF is a 503 that says what is missing."""

from __future__ import annotations

from app import localdb
from app.reports import pdf


def test_the_set_up_finds_pango_and_the_fonts_here():
    assert all(localdb._installed(marker) for marker in localdb.TYPESETTING.values())
    said = []
    localdb.ensure_typesetting(said.append)
    assert said == []  # nothing to install, nothing said


def test_without_root_the_set_up_says_what_to_install(monkeypatch):
    monkeypatch.setitem(localdb.TYPESETTING, "fonts-nowhere", "/nonexistent/font.ttf")
    monkeypatch.setattr(localdb, "_is_root", lambda: False)
    said = []
    localdb.ensure_typesetting(said.append)
    assert said == ["PDF reports need fonts-nowhere: sudo apt-get install fonts-nowhere"]


def test_a_pdf_without_pango_is_a_503_saying_so(client, monkeypatch):
    monkeypatch.setattr(pdf, "weasyprint", None)
    monkeypatch.setattr(pdf, "_MISSING", "cannot load library 'libpango-1.0-0'", raising=False)
    # a parameter no other test asks with: an answer the response cache does not hold yet
    fresh = {"format": "pdf", "lang": "ar", "operation": "libya"}
    response = client.get("/api/v1/reports/R39", params=fresh)
    assert response.status_code == 503, response.text
    assert "Pango" in response.json()["detail"] and "libpango" in response.json()["detail"]
    html = client.get("/api/v1/reports/R39", params={"format": "html", "lang": "ar"})
    assert html.status_code == 200  # the HTML report needs no typesetter
