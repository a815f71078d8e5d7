"""Print maps (GET /api/v1/maps/{round}.pdf|.png): one page of the chosen size and
orientation, with the map's title, legend, scale and date; the same bytes twice."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.poppler import pdf_text

MM = 72 / 25.4  # PDF points per mm


def _page_box(pdf: bytes) -> tuple[float, float]:
    import pypdfium2

    found = pypdfium2.PdfDocument(pdf)
    try:
        assert len(found) == 1
        return found[0].get_size()
    finally:
        found.close()


def test_iraq_districts_on_a3_portrait(client, tmp_path):
    response = client.get(
        "/api/v1/maps/R132.pdf",
        params={"operation": "IRQ", "level": 2, "size": "A3", "orientation": "portrait"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    width, height = _page_box(response.content)
    assert (round(width / MM), round(height / MM)) == (297, 420)
    text = pdf_text(response.content, tmp_path)
    assert "IDPs, People, R132: by district" in text
    assert "Reporting date: 30 April 2024" in text
    assert "km" in text and "No data" in text and "OCHA COD-AB Iraq" in text


def test_a_png_in_arabic_landscape(client):
    response = client.get(
        "/api/v1/maps/IRQ-R132.png", params={"level": 1, "size": "A4", "lang": "ar"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.width > image.height  # landscape by default
    again = client.get("/api/v1/maps/IRQ-R132.png", params={"level": 1, "size": "A4", "lang": "ar"})
    assert again.content == response.content


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"size": "A5"}, "size"), ({"orientation": "sideways"}, "orientation")],
)
def test_bad_size_or_orientation_is_422(client, params, parameter):
    response = client.get("/api/v1/maps/R39.pdf", params=params)
    assert response.status_code == 422
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


def test_unknown_round_or_operation_is_404(client):
    assert client.get("/api/v1/maps/R999.pdf").status_code == 404
    assert client.get("/api/v1/maps/R39.png", params={"operation": "XYZ"}).status_code == 404
    # a Libyan round asked for as Iraq's
    storm = "/api/v1/maps/storm-daniel-2023-09-11.pdf"
    assert client.get(storm, params={"operation": "IRQ"}).status_code == 404
