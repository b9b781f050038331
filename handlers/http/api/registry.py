"""An endpoint = method + path + scope + the pydantic models of its body, query and response. The
router, the request validation and the OpenAPI document are all derived from this one table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.context import AppContext
from services.api_keys import ApiPrincipal

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Call:
    """What an endpoint function gets: validated input and who is calling."""

    context: AppContext
    principal: ApiPrincipal
    body: Any
    query: Any
    path: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    @classmethod
    def of(cls, model: BaseModel, status: int = 200) -> Reply:
        return cls(status, model.model_dump(mode="json"))


EndpointFn = Callable[[Call], Awaitable[Reply]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to PREFIX, aiohttp syntax: /cards/{number}
    fn: EndpointFn
    scope: str
    summary: str
    response: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[str, ...] = ()  # problem codes worth documenting besides the common ones
    idempotent: str | None = None  # how retries are recognised, for the document
    headers: tuple[str, ...] = field(default=())  # extra required headers, e.g. Idempotency-Key

    @property
    def full_path(self) -> str:
        return PREFIX + self.path

    @property
    def operation_id(self) -> str:
        return self.fn.__name__
