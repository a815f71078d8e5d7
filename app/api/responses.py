"""JSON responses serialised with orjson."""

from typing import Any

from starlette.responses import JSONResponse

from app.serialize import dumps


class JSON(JSONResponse):
    """`application/json` rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
