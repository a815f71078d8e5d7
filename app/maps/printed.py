"""Print maps: one page (A4 or A3, portrait or landscape) with a view's map as the static
map draws it (app.maps.svg, with scale bar and north arrow), its title, legend,
attribution and the round's date, as PDF (WeasyPrint) or PNG (the PDF's page rendered
by PDFium). Deterministic: no timestamps but the data's own date.
"""

from __future__ import annotations

import io
from datetime import date
from html import escape

from app.maps import svg
from app.maps.svg import MapView
from app.reports.pdf import to_pdf
from app.reports.words import WORDS, day

SIZES = {"A4": (210, 297), "A3": (297, 420)}  # mm, portrait
MARGIN = 10  # mm
CHROME = {"A4": 58, "A3": 64}  # mm of the page above and below the map: title, legend, notes
PX_PER_MM = 96 / 25.4
PNG_DPI = 150


def page_size(size: str, orientation: str) -> tuple[int, int]:
    width, height = SIZES[size]
    return (height, width) if orientation == "landscape" else (width, height)


def document(view: MapView, lang: str, size: str, orientation: str, when: date | None) -> str:
    """The page as HTML: the map fitted to what the page leaves it."""
    width_mm, height_mm = page_size(size, orientation)
    inner_w, inner_h = width_mm - 2 * MARGIN, height_mm - 2 * MARGIN - CHROME[size]
    width, height = round(inner_w * PX_PER_MM), round(inner_h * PX_PER_MM)
    drawing = svg.draw(view, lang, None, width, height, furniture=True, legend=False)
    title, rows, notes = svg.legend_texts(view, lang)
    w = WORDS[lang]
    op = view.operation
    heading = f"{w['dtm']} \u2013 {op.name_ar if lang == 'ar' else op.name_en}"
    swatches = "".join(
        f"<li><span class='swatch' style='background:{colour}'></span>{escape(text)}</li>"
        for text, colour in rows
    )
    dated = f"{w['reported']}: {day(when, lang)}" if when else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<style>
@page {{ size: {width_mm}mm {height_mm}mm; margin: {MARGIN}mm; }}
html {{ font-family: {'"Noto Sans Arabic", ' if lang == "ar" else ""}"Noto Sans",
        "Noto Sans Arabic", "DejaVu Sans", sans-serif; font-size: 10pt; color: #222; }}
h1 {{ font-size: 16pt; color: #0033a0; margin: 0; }}
.sub {{ font-size: 10pt; color: #444; margin: 1mm 0 2mm; }}
svg {{ width: {inner_w}mm; height: {inner_h}mm; display: block; }}
ul {{ list-style: none; padding: 0; margin: 2mm 0 1mm; display: flex; flex-wrap: wrap;
      gap: 1mm 4mm; font-size: 9pt; }}
.swatch {{ display: inline-block; width: 9pt; height: 7pt; border: 0.5pt solid #777;
           margin-inline-end: 3pt; vertical-align: middle; }}
.note {{ font-size: 8pt; color: #555; }}
</style></head><body>
<h1>{escape(title)}</h1>
<div class="sub">{escape(heading)}{" · " + escape(dated) if dated else ""}</div>
{drawing}
<ul>{swatches}</ul>
<div class="note">{"".join(f"<div>{escape(n)}</div>" for n in notes)}</div>
</body></html>
"""


def pdf(view: MapView, lang: str, size: str, orientation: str, when: date | None) -> bytes:
    return to_pdf(document(view, lang, size, orientation, when))


def png(view: MapView, lang: str, size: str, orientation: str, when: date | None) -> bytes:
    """The PDF's one page rendered at PNG_DPI by PDFium (pypdfium2), as PNG."""
    import pypdfium2

    found = pypdfium2.PdfDocument(pdf(view, lang, size, orientation, when))
    try:
        image = found[0].render(scale=PNG_DPI / 72).to_pil()
    finally:
        found.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
