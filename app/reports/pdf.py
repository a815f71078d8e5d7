"""A report's HTML typeset as PDF by WeasyPrint (Pango and HarfBuzz shape the Arabic;
fonts from Debian's fonts-noto-core and fonts-dejavu-core).

Deterministic: WeasyPrint writes no creation or modification date unless the document
asks for one (it does not), and the file identifier is derived from the report itself.

WeasyPrint is imported with this module (about 1 s), which the API imports: a server pays
it once at start (gunicorn's master, before its workers fork), not on a first report.
"""

from __future__ import annotations

import hashlib

try:
    import weasyprint
except (ImportError, OSError) as exc:  # OSError: Pango missing
    weasyprint, _MISSING = None, str(exc)

from app.errors import Unavailable


def to_pdf(document: str) -> bytes:
    if weasyprint is None:
        raise Unavailable(f"PDF needs WeasyPrint and Pango, not installed here: {_MISSING}")
    identifier = hashlib.sha256(document.encode("utf-8")).hexdigest()[:32].encode("ascii")
    return weasyprint.HTML(string=document).write_pdf(pdf_identifier=identifier)
