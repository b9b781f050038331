"""Bot API parameters from any transport Telegram accepts: query string, JSON, urlencoded, multipart.

Form transports carry every value as a string (aiogram JSON-encodes numbers, booleans and objects),
JSON bodies carry native values; the typed getters hide the difference from the method handlers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from emulator.errors import bad_request

ATTACH_PREFIX = "attach://"


@dataclass(frozen=True)
class UploadedFile:
    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return cls(values)
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise bad_request("can't parse JSON object") from error
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            values.update(body)
        elif content_type.startswith("multipart/"):
            values.update(await read_multipart(await request.multipart()))
        else:
            values.update(await request.post())
        return cls(values)

    def has(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def get_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        return value if isinstance(value, str) else str(value)

    def require_str(self, name: str, missing: str) -> str:
        value = self.get_str(name)
        if not value:
            raise bad_request(missing)
        return value

    def get_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError) as error:
            raise bad_request(f"invalid {name} specified") from error

    def require_int(self, name: str, missing: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(missing)
        return value

    def get_bool(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError as error:
            raise bad_request(f"can't parse {name} JSON object") from error

    def get_file(self, name: str) -> UploadedFile | str | None:
        """An uploaded file, or a string (file_id or URL); follows aiogram's `attach://` indirection."""
        value = self._values.get(name)
        if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
            attached = self._values.get(value.removeprefix(ATTACH_PREFIX))
            if not isinstance(attached, UploadedFile):
                raise bad_request(f"file {value} not found in the request")
            return attached
        if value is None or isinstance(value, UploadedFile):
            return value
        return str(value)


async def read_multipart(reader: MultipartReader) -> dict[str, Any]:
    values: dict[str, Any] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            data = bytes(await part.read())
            values[part.name] = UploadedFile(data, part.filename, part.headers.get("Content-Type"))
        else:
            values[part.name] = await part.text()
    return values
