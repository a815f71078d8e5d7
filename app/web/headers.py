"""Headers every HTML page carries, and HEAD answered wherever GET is.

Pages (the web map, /docs, /redoc, the OGC HTML views) run only the service's own script
files: the Content-Security-Policy allows no inline script, no `javascript:` URL and no
script from elsewhere, so a text or a link a poster stored cannot run in a reader's
browser even if it slipped past the escaping. They may not be framed by another site
(clickjacking), and no answer may be sniffed into another type.
"""

from __future__ import annotations

# MapLibre runs its workers from blob: URLs and draws tiles from blob: images; the
# libraries set inline styles (harmless: no script runs from a style). The RTL text plugin
# (Arabic labels) compiles its inlined WebAssembly: 'wasm-unsafe-eval' allows that and no
# JavaScript eval.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HTML_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
]
EVERY_ANSWER = [(b"x-content-type-options", b"nosniff")]


class SecurityHeaders:
    """Pure ASGI: nosniff on every answer; the CSP and frame policy on HTML ones."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                headers += EVERY_ANSWER
                if kind.startswith(b"text/html"):
                    headers += HTML_HEADERS
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """HEAD is answered wherever GET is, with GET's status and headers (Content-Length
    included) and no body (RFC 9110): the request runs as a GET, cached answers too."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def send_headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
