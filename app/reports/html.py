"""A round report as one self-contained HTML document (inline CSS and SVG, no fetches):
right to left in Arabic, left to right in English. Every text is escaped."""

from __future__ import annotations

from html import escape

from app.maps import svg
from app.reports.chart import COLOURS, line_chart
from app.reports.content import TABLE_LEVEL, TOP, Report
from app.reports.words import DASH, WORDS, day, number, signed

MAP_WIDTH, MAP_HEIGHT = 720, 330

CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt;
                         color: #666; } }
html { font-family: "Noto Sans", "Noto Sans Arabic", "DejaVu Sans", sans-serif;
       font-size: 10pt; color: #222; }
html[lang=ar] { font-family: "Noto Sans Arabic", "Noto Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 20pt; color: #0033a0; margin: 0 0 4pt; }
h2 { font-size: 13pt; color: #0033a0; border-bottom: 1px solid #0033a0; margin: 14pt 0 6pt;
     break-after: avoid; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; break-after: avoid; }
.title { border-bottom: 4px solid #0033a0; padding-bottom: 8pt; margin-bottom: 10pt; }
.subtitle { font-size: 12pt; color: #444; }
.figures { display: flex; gap: 8pt; flex-wrap: wrap; }
.figure { flex: 1; border: 1px solid #ccd; border-radius: 4px; padding: 6pt 8pt;
          min-width: 140pt; }
.figure .big { font-size: 18pt; font-weight: bold; color: #0033a0; }
.figure .small { font-size: 8.5pt; color: #555; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ddd; padding: 2pt 4pt; text-align: start; }
th { background: #eef1f8; }
td.n, th.n { text-align: end; white-space: nowrap; }
figure { margin: 6pt 0 10pt; break-inside: avoid; }
figure svg { width: 100%; height: auto; }
.note { font-size: 8.5pt; color: #555; }
.partial { border-inline-start: 4px solid #c0392b; padding: 4pt 8pt; background: #fbeeee; }
section { break-inside: auto; }
.maps { break-before: page; }
.keep { break-inside: avoid; }
ul { margin: 2pt 0; padding-inline-start: 14pt; }
figcaption { font-size: 8.5pt; margin-top: 3pt; }
ul.classes { list-style: none; padding: 0; margin: 3pt 0; display: flex; flex-wrap: wrap;
             gap: 2pt 10pt; }
.swatch { display: inline-block; width: 10pt; height: 8pt; border: 0.5pt solid #777;
          margin-inline-end: 3pt; vertical-align: middle; }
"""


def render(report: Report, lang: str) -> str:
    """The report in `lang` ('en' or 'ar') as an HTML document."""
    w = WORDS[lang]
    op = report.operation
    name = op.name_ar if lang == "ar" else op.name_en
    # Round 39; a flash update by its date (else its code)
    which = report.round.number or (day(report.round.when, lang) if report.round.when else None)
    which = which or report.label
    title = f"{w['dtm']} {DASH} {name}: {w['round' if report.round.number else report.kind]}"
    title += f" {which}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        '<meta name="author" content="IOM DTM (figures); DTM Geo (this report)">',
        f"<style>{CSS}</style></head><body>",
        '<header class="title">',
        f"<div class='subtitle'>{escape(w['report'])} · {escape(w[report.kind])}</div>",
        f"<h1>{escape(title)}</h1>",
        f"<div class='subtitle' dir='ltr'>{escape(report.title)}</div>",
        f"<p>{_dates(report, lang)}</p>",
        "</header>",
        _key_figures(report, lang),
        _coverage(report, lang),
        _maps(report, lang),
        _tables(report, lang),
        _series(report, lang),
        _timeline(report, lang),
        _indicators(report, lang),
        _about(report, lang),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _dates(report: Report, lang: str) -> str:
    """Collection period (where published) and reporting date."""
    w, parts = WORDS[lang], []
    start, end = report.collection_start, report.collection_end
    if start or end:
        period = f" {DASH} ".join(day(d, lang) for d in dict.fromkeys(d for d in (start, end) if d))
        parts.append(f"{w['period']}: {period}")
    reported = report.round.reporting_date or report.round.when
    if reported:
        parts.append(f"{w['reported']}: {day(reported, lang)}")
    return escape(" · ".join(parts))


def _type(w: dict, kind: str) -> str:
    return escape(w[kind])


def _key_figures(report: Report, lang: str) -> str:
    w = WORDS[lang]
    out = [f"<section><h2>{escape(w['key_figures'])}</h2><div class='figures'>"]
    for k in report.key_figures:
        lines = [
            f"<div class='figure' data-type='{k.population_type}'>",
            f"<div>{_type(w, k.population_type)}</div>",
            f"<div class='big'>{number(k.individuals, lang)}</div>",
            f"<div class='small'>{escape(w['individuals'])}</div>",
        ]
        if k.households is not None:
            lines.append(
                f"<div class='small'>{escape(w['households'])}: {number(k.households, lang)}</div>"
            )
        if k.change is not None:
            percent = ""
            if k.change_percent is not None:
                percent = f" ({signed(k.change_percent, lang, 1)}%)"
            since = w["change"].format(round=report.previous_label)
            lines.append(
                f"<div class='small'>{escape(since)}: "
                f"<bdi dir='ltr'>{signed(k.change, lang)}{percent}</bdi></div>"
            )
        else:
            lines.append(f"<div class='small'>{escape(w['no_previous'])}</div>")
        if not k.complete:
            lines.append(f"<div class='small'>{escape(w['not_whole'])}</div>")
        lines.append(f"<div class='small'>{escape(w[k.quality])}</div></div>")
        out += lines
    out.append("</div></section>")
    return "\n".join(out)


def _areas_word(report: Report, level: int, lang: str) -> str:
    found = report.operation.levels.get(level)
    if found is None:
        return ""
    return found.plural_ar if lang == "ar" else found.plural_en


def _coverage(report: Report, lang: str) -> str:
    w = WORDS[lang]
    out = [f"<section><h2>{escape(w['coverage'])}</h2><ul>"]
    for c in report.coverage:
        text = w["covered"].format(
            type=w[c.population_type],
            n=number(c.areas, lang),
            m=number(c.of, lang),
            areas=_areas_word(report, c.level, lang),
        )
        out.append(f"<li>{escape(text)}</li>")
    out.append("</ul>")
    if report.partial:
        out.append(f"<p class='partial'>{escape(w['partial'])}</p>")
    out.append("</section>")
    return "\n".join(out)


def _maps(report: Report, lang: str) -> str:
    w = WORDS[lang]
    out = [f"<section class='maps'><h2>{escape(w['maps'])}</h2>"]
    for view in report.maps:
        drawing = svg.draw(view, lang, None, MAP_WIDTH, MAP_HEIGHT, furniture=True, legend=False)
        out.append(f"<figure>{drawing}{_legend(view, lang)}</figure>")
    national = {k.population_type for k in report.key_figures}
    for kind in report.missing:
        said = w["national_only" if kind in national else "missing"].format(type=w[kind])
        out.append(f"<p class='note'>{escape(said)}</p>")
    out.append("</section>")
    return "\n".join(out)


def _legend(view, lang: str) -> str:
    """The map's legend set as text (shaped by Pango, unlike SVG text in WeasyPrint)."""
    title, rows, notes = svg.legend_texts(view, lang)
    swatches = "".join(
        f"<li><span class='swatch' style='background:{colour}'></span>{escape(text)}</li>"
        for text, colour in rows
    )
    lines = "".join(f"<div>{escape(n)}</div>" for n in notes)
    return (
        f"<figcaption><strong>{escape(title)}</strong><ul class='classes'>{swatches}</ul>"
        f"<div class='note'>{lines}</div></figcaption>"
    )


def _name(lang: str, en: str, ar: str) -> str:
    return escape(ar if lang == "ar" and ar else en)


def _tables(report: Report, lang: str) -> str:
    w = WORDS[lang]
    areas = _areas_word(report, TABLE_LEVEL, lang)
    out = ["<section>"]
    for kind, rows in report.top_areas.items():
        out.append("<div class='keep'>")
        out.append(f"<h3>{escape(w['top'].format(n=TOP, areas=areas, type=w[kind]))}</h3>")
        out.append(
            f"<table><tr><th>{escape(w['area'])}</th><th>{escape(w['in'])}</th>"
            f"<th class='n'>{escape(w['individuals'])}</th>"
            f"<th class='n'>{escape(w['households'])}</th><th>{escape(w['quality_short'])}</th>"
            "</tr>"
        )
        for r in rows:
            out.append(
                f"<tr><td>{_name(lang, r.name_en, r.name_ar)}</td>"
                f"<td>{_name(lang, r.parent_en, r.parent_ar)}</td>"
                f"<td class='n'>{number(r.individuals, lang)}</td>"
                f"<td class='n'>{number(r.households, lang)}</td>"
                f"<td>{escape(w[r.quality])}</td></tr>"
            )
        out.append("</table></div>")
    if report.previous_label:
        out.append(f"<h3>{escape(w['movers'].format(round=report.previous_label))}</h3>")
        if report.movers:
            out.append(
                f"<table><tr><th>{escape(w['area'])}</th><th></th>"
                f"<th class='n'>{escape(w['before'])}</th><th class='n'>{escape(w['after'])}</th>"
                f"<th class='n'>{escape(w['change'].format(round=report.previous_label))}</th>"
                "</tr>"
            )
            for m in report.movers:
                percent = (
                    "" if m.change_percent is None else f" ({signed(m.change_percent, lang, 1)}%)"
                )
                out.append(
                    f"<tr><td>{_name(lang, m.name_en, m.name_ar)}</td>"
                    f"<td>{_type(w, m.population_type)}</td>"
                    f"<td class='n'>{number(m.before, lang)}</td>"
                    f"<td class='n'>{number(m.after, lang)}</td>"
                    f"<td class='n'><bdi dir='ltr'>{signed(m.change, lang)}{percent}"
                    "</bdi></td></tr>"
                )
            out.append("</table>")
        else:
            text = w["no_movers"].format(area=areas, round=report.previous_label)
            out.append(f"<p class='note'>{escape(text)}</p>")
    out.append("</section>")
    return "\n".join(out)


def _series(report: Report, lang: str) -> str:
    if not report.series:
        return ""
    w = WORDS[lang]
    name = report.operation.name_ar if lang == "ar" else report.operation.name_en
    note = w["series_note"].format(operation=name, kind=w[report.kind])
    return (
        f"<section><h2>{escape(w['series'])}</h2>"
        f"<figure>{line_chart(report.series, lang)}{_series_key(report, lang)}</figure>"
        f"<p class='note'>{escape(note)}</p></section>"
    )


def _series_key(report: Report, lang: str) -> str:
    """The chart's key, set as text (see `_legend`)."""
    w = WORDS[lang]
    kinds = [k for k in COLOURS if any(p.population_type == k for p in report.series)]
    items = "".join(
        f"<li><span class='swatch' style='background:{COLOURS[k]}'></span>{_type(w, k)}</li>"
        for k in kinds
    )
    return f"<figcaption><ul class='classes'>{items}</ul></figcaption>"


def _timeline(report: Report, lang: str) -> str:
    if not report.timeline:
        return ""
    w = WORDS[lang]
    out = [
        f"<section><h2>{escape(w['timeline'])}</h2><table><tr><th>{escape(w['date'])}</th>"
        f"<th>{escape(w['figure'])}</th><th>{escape(w['area'])}</th>"
        f"<th class='n'>{escape(w['value'])}</th></tr>"
    ]
    for t in report.timeline:
        where = _name(lang, t.name_en or "", t.name_ar or "")
        digits = 0 if float(t.value).is_integer() else 1
        out.append(
            f"<tr><td>{escape(t.period)}</td><td dir='ltr'>{escape(t.metric)}</td>"
            f"<td>{where}</td><td class='n'>{number(t.value, lang, digits)}</td></tr>"
        )
    out.append("</table></section>")
    return "\n".join(out)


def _indicators(report: Report, lang: str) -> str:
    if not report.indicators:
        return ""
    w = WORDS[lang]
    out = [
        f"<section><h2>{escape(w['indicators'])}</h2><table><tr><th>{escape(w['topic'])}</th>"
        f"<th>{escape(w['indicator'])}</th><th></th><th class='n'>{escape(w['value'])}</th></tr>"
    ]
    for r in report.indicators:
        kind = w[r.population_type] if r.population_type else w["all_types"]
        if r.fraction:
            shown = f"{number(100 * r.value, lang, 1)}%" if r.value is not None else DASH
        else:
            shown = r.text_value or number(r.value, lang, 1)
        out.append(
            f"<tr><td dir='ltr'>{escape(r.topic)}</td>"
            f"<td dir='ltr'>{escape(r.indicator.replace('_', ' '))}</td>"
            f"<td>{escape(kind)}</td><td class='n'>{escape(shown)}</td></tr>"
        )
    out.append("</table>")
    more = report.indicators_total - len({r.indicator for r in report.indicators})
    if more > 0:
        out.append(f"<p class='note'>{escape(w['indicators_more'].format(n=more))}</p>")
    out.append("</section>")
    return "\n".join(out)


def _about(report: Report, lang: str) -> str:
    w = WORDS[lang]
    op = report.operation
    credit = op.map_credit_ar if lang == "ar" else op.map_credit_en
    out = [
        f"<section><h2>{escape(w['methodology'])}</h2><p>{escape(w['method'])}</p>",
        f"<h2>{escape(w['sources'])}</h2><ul>",
    ]
    out += [f"<li dir='ltr'>{escape(s)}</li>" for s in report.sources]
    if report.source_url:
        out.append(f"<li dir='ltr'>{escape(report.source_url)}</li>")
    out += [f"<li dir='ltr'>{escape(a)}</li>" for a in report.attribution]
    if report.approximate_note:
        out.append(f"<li dir='ltr'>{escape(report.approximate_note)}</li>")
    out.append("</ul>")
    qualities = ", ".join(w[q] for q in report.qualities) or DASH
    out.append(f"<p>{escape(w['quality'])}: {escape(qualities)}</p>")
    iom = w["iom"].format(operation=op.name_ar if lang == "ar" else op.name_en)
    out.append(f"<h2>{escape(w['credit'])}</h2><p>{escape(iom)}</p><p>{escape(credit)}</p>")
    out.append("</section>")
    return "\n".join(out)
