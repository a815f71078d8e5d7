"""The one rule for a URL a poster gives (a round's or a figure's `source_url`).

It is stored and later rendered as a link for every reader, so only an `http` or
`https` URL with a host is taken: no `javascript:`, `data:` or other scheme, no user
name before the host (`https://good.org@bad.example`), no spaces or control characters.
Non-ASCII letters may follow the host (an Arabic path); a host itself is written in
ASCII (an internationalised domain in its `xn--` form).
"""

from __future__ import annotations

import re

MAX_LENGTH = 2000

# ECMA-262, Python and Rust regex alike (it is also the OpenAPI pattern); anchored.
PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://"  # the scheme, any case
    r"[A-Za-z0-9\[][A-Za-z0-9._~%:\[\]-]*"  # host (a name, IPv4 or [IPv6]) and port
    r"(?:[/?#][^\x00-\x20\x7f-\x9f]*)?$"  # path, query, fragment: no space or control
)
_URL = re.compile(PATTERN)
EXPECTED = (
    "expected an http:// or https:// address with a host, without spaces or control "
    f"characters (at most {MAX_LENGTH} characters)"
)


def web_url(value: str | None) -> str | None:
    """`value` if it is an http(s) URL (None: no URL); ValueError with what is expected
    otherwise, an empty string included.

    Judged exactly as the OpenAPI pattern is by a JSON Schema validator in Python (`$`
    also matches before a final newline, which is then dropped), so that what the
    description allows is taken and nothing else."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_LENGTH or not _URL.search(value):
        raise ValueError(EXPECTED)
    return value.removesuffix("\n")


def linkable(href: str | None) -> bool:
    """Whether a page may link `href`: a path on this service or an http(s) URL."""
    if not isinstance(href, str) or not href:
        return False
    if href.startswith("/") and not href.startswith("//"):
        return not any(c < " " or c == "\x7f" for c in href)
    return bool(_URL.fullmatch(href))
