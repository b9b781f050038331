"""Pictures of a card number for the till's scanner: a QR code and a Code 128 barcode in one PNG.

Pure functions: bytes in memory, no transport. One image, so the card screen stays a single
message whose caption (the rotating code) can be edited in place.
"""

from __future__ import annotations

from io import BytesIO

import qrcode
from barcode import Code128
from barcode.writer import ImageWriter
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

_MARGIN = 24


def qr_image(data: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    code.add_data(data)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image


def barcode_image(data: str) -> Image.Image:
    buffer = BytesIO()
    Code128(data, writer=ImageWriter()).write(
        buffer, options={"module_width": 0.35, "module_height": 12.0, "font_size": 8, "quiet_zone": 2.0}
    )
    buffer.seek(0)
    with Image.open(buffer) as image:
        return image.convert("RGB")


def card_png(number: str) -> bytes:
    """The QR code of `number` with its Code 128 barcode underneath, as PNG bytes."""
    qr, bar = qr_image(number), barcode_image(number)
    width = max(qr.width, bar.width) + 2 * _MARGIN
    canvas = Image.new("RGB", (width, qr.height + bar.height + 3 * _MARGIN), "white")
    canvas.paste(qr, ((width - qr.width) // 2, _MARGIN))
    canvas.paste(bar, ((width - bar.width) // 2, qr.height + 2 * _MARGIN))
    out = BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
