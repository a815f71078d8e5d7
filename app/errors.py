"""Errors the project raises on purpose; each carries a one-line message for people."""


class DtmGeoError(Exception):
    """Base class: the message is safe to show to a user as is."""


class ConfigError(DtmGeoError):
    """The configuration or the machine is not fit to run (missing binaries, bad URL...)."""


class DatabaseError(DtmGeoError):
    """The database is unreachable or lacks something it needs (PostGIS, migrations)."""


class LoadError(DtmGeoError):
    """An input file could not be loaded; names the file and, where known, row and field."""

    def __init__(self, file: str, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field, self.reason = file, row, field, message
        where = file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class InvalidParameter(DtmGeoError):
    """A request parameter that parses but makes no sense; the API answers 422."""

    def __init__(self, parameter: str, message: str, value=None, where: str = "query"):
        super().__init__(f"{parameter}: {message}")
        self.parameter, self.message, self.value, self.where = parameter, message, value, where


class NotFound(DtmGeoError):
    """An unknown pcode, name or round; the API answers 404 saying how to list valid ones."""
