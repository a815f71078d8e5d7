"""Round reports: content gathered from the services (content), rendered as HTML (html,
chart) and typeset as PDF (pdf). `build` is what the API and the CLI call."""

from __future__ import annotations

from sqlalchemy.orm import Session


def build(
    session: Session, round_code: str, operation: str | None, lang: str, format: str
) -> tuple[bytes, str]:
    """The report's bytes and a file name for it (404 for an unknown round or operation)."""
    from app.reports import content, html, pdf  # here: the package imports cheaply

    report = content.gather(session, round_code, operation)
    document = html.render(report, lang)
    name = f"dtm-{report.operation.slug}-{report.round.code.lower()}-report-{lang}.{format}"
    if format == "pdf":
        return pdf.to_pdf(document), name
    return document.encode("utf-8"), name
