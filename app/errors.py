"""Errors the project raises on purpose; each carries a one-line message for people.

The API errors carry their HTTP status; the web layer renders every one of them the same
way, as an RFC 9457 problem (`application/problem+json`, see app.api.errors).
"""


class DtmGeoError(Exception):
    """Base class: the message is safe to show to a user as is.

    `retry_after` (seconds), when set, is sent as the answer's Retry-After header."""

    status = 500
    retry_after: int | None = None


class ConfigError(DtmGeoError):
    """The configuration or the machine is not fit to run (missing binaries, bad URL...)."""


class Unavailable(DtmGeoError):
    """A part the answer needs is not installed on this machine (Pango for PDF)."""

    status = 503


class DatabaseError(DtmGeoError):
    """The database is unreachable or lacks something it needs (PostGIS, migrations)."""

    status = 503
    retry_after = 2


class LoadError(DtmGeoError):
    """An input file could not be loaded; names the file and, where known, row and field."""

    status = 422

    def __init__(self, file: str, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field, self.reason = file, row, field, message
        where = file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class FetchError(DtmGeoError):
    """A source file could not be downloaded, or failed its checksum (nothing kept)."""


class InvalidParameter(DtmGeoError):
    """A request parameter that is malformed or makes no sense: 422, or 400 under the OGC
    API, whose standard asks for 400."""

    status = 422

    def __init__(self, parameter: str, message: str, value=None, where: str = "query", **extra):
        super().__init__(f"{parameter}: {message}")
        self.parameter, self.message, self.value, self.where = parameter, message, value, where
        self.extra = extra  # members of the problem document that say more (numbers, limits)


class NotFound(DtmGeoError):
    """An unknown pcode, name, round, collection or feature; says how to list valid ones."""

    status = 404


class Unauthorized(DtmGeoError):
    """No API key, or an unknown or revoked one."""

    status = 401


class Forbidden(DtmGeoError):
    """A valid key without the scope the request needs."""

    status = 403


class Conflict(DtmGeoError):
    """The request clashes with the current state (another write holds the round)."""

    status = 409


class PayloadTooLarge(DtmGeoError):
    """A body, or a workbook inside it, beyond a documented limit (names the limit)."""

    status = 413


class UnsupportedMediaType(DtmGeoError):
    """A body of a content type the route does not read."""

    status = 415


class Unprocessable(DtmGeoError):
    """A body that cannot be read as what the route takes (names what is expected)."""

    status = 422


class TooManyRequests(DtmGeoError):
    """A key (or a client address) over its rate: retry after `retry_after` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ClientClosed(DtmGeoError):
    """The client went away before the answer was ready (nobody is left to read it)."""

    status = 499
