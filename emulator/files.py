"""Files the bot uploaded or users sent: bytes are kept so getFile, downloads and the sandbox work."""

from __future__ import annotations

import base64
import io
import itertools
import mimetypes
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from emulator.errors import bad_request

_THUMBNAIL_SIDE = 320


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    mime_type: str
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    # For photos: every size of the same picture, so any size's file_id can be re-sent.
    photo_sizes: list[dict[str, Any]] = field(default_factory=list)

    def file_object(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def document_object(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }
        if self.file_name:
            document["file_name"] = self.file_name
        return document


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._numbers = itertools.count(1)

    def clear(self) -> None:
        self._by_id.clear()
        self._by_path.clear()

    def dump(self) -> list[dict[str, Any]]:
        """Every file as JSON-ready data (bytes in base64), for the sandbox's saved state."""
        return [
            {**{key: value for key, value in vars(stored).items() if key != "data"},
             "data": base64.b64encode(stored.data).decode("ascii")}
            for stored in self._by_id.values()
        ]

    def load(self, files: list[dict[str, Any]]) -> None:
        self.clear()
        for raw in files:
            stored = StoredFile(**{**raw, "data": base64.b64decode(raw["data"])})
            self._by_id[stored.file_id] = stored
            self._by_path[stored.file_path] = stored
        # New files must not take the paths of loaded ones.
        numbers = [int(match.group(1)) for path in self._by_path if (match := re.search(r"file_(\d+)", path))]
        self._numbers = itertools.count(max(numbers, default=0) + 1)

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def add(
        self,
        data: bytes,
        *,
        kind: str,
        mime_type: str,
        file_name: str | None = None,
        size: tuple[int, int] | None = None,
    ) -> StoredFile:
        number = next(self._numbers)
        extension = mimetypes.guess_extension(mime_type) or ".bin"
        stored = StoredFile(
            # Real file_ids are long opaque strings; a recognisable prefix helps when reading logs.
            file_id=f"EMU{kind[:2].upper()}{number}_{secrets.token_urlsafe(24)}",
            file_unique_id=f"U{number}{secrets.token_hex(4)}",
            kind=kind,
            data=data,
            file_path=f"{kind}s/file_{number}{extension}",
            mime_type=mime_type,
            file_name=file_name,
            width=size[0] if size else None,
            height=size[1] if size else None,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Store a picture and a thumbnail, returning the PhotoSize array Telegram would."""
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError) as error:
            raise bad_request("IMAGE_PROCESS_FAILED") from error
        mime_type = Image.MIME.get(image.format or "", "image/jpeg")
        originals = [self.add(data, kind="photo", mime_type=mime_type, size=image.size)]
        if max(image.size) > _THUMBNAIL_SIDE:
            thumbnail = image.convert("RGB")
            thumbnail.thumbnail((_THUMBNAIL_SIDE, _THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            thumbnail.save(buffer, format="JPEG")
            originals.insert(0, self.add(buffer.getvalue(), kind="photo", mime_type="image/jpeg", size=thumbnail.size))
        sizes = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": stored.width,
                "height": stored.height,
                "file_size": len(stored.data),
            }
            for stored in originals
        ]
        for stored in originals:
            stored.photo_sizes = sizes
        return sizes


def placeholder_image(*, side: int = 64, image_format: str = "PNG") -> bytes:
    """A plain square for user photos and stickers sent through the control API without bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (80, 140, 220)).save(buffer, format=image_format)
    return buffer.getvalue()
