"""A route's query parameters as one pydantic model, checked in one validation.

FastAPI reads query parameters field by field in Python, and a session dependency costs
an async generator and an exit stack: on a statistics request that was 0.25 of 1.33 ms
of the worker's CPU (bench/server_cpu.py, with this module 1.08 ms). The busiest routes
instead take `query(Model)`, a dependency that validates the whole query string with one
`model_validate` call, and document that same model's fields as their parameters
(`documented(Model)`, FastAPI's own description of a query model). The parameters are
declared once, in the model, and checked and described from it.
"""

import functools
from collections.abc import Callable
from typing import Annotated, TypeVar, get_args, get_origin

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def query(model: type[M]) -> Callable[[Request], M]:
    """A dependency reading `model` from the query string: a repeated parameter gives a
    list to a list field and its last value to any other, as FastAPI reads them; an error
    names the parameter (in `query`), as FastAPI's own do."""
    lists = frozenset(name for name, field in model.model_fields.items() if _is_list(field))
    fields = frozenset(model.model_fields)

    async def read(request: Request) -> M:
        params = request.query_params
        given = {
            name: params.getlist(name) if name in lists else value
            for name, value in params.items()
            if name in fields
        }
        try:
            return model.model_validate(given)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in errors]
            ) from None

    return read


def _is_list(field) -> bool:
    annotation = field.annotation
    return list in (get_origin(annotation), *map(get_origin, get_args(annotation)))


@functools.cache
def documented(model: type[BaseModel]) -> dict:
    """The route's `openapi_extra`: `model`'s fields as query parameters, described as
    FastAPI describes a query model."""
    scratch = FastAPI()

    @scratch.get("/")
    def route(q: Annotated[model, Query()]) -> None:  # only described, never served
        return None

    spec = get_openapi(title="", version="", routes=scratch.routes)
    return {"parameters": spec["paths"]["/"]["get"]["parameters"]}
