"""QR codes, drawn by segno, with error correction M: still readable from a cracked
screen. On a page as inline SVG; in an e-mail as a PNG image, drawn when the mail is
built for sending (see `services.mail`), not in the request that queued it: drawing a
party's codes (segno tries all eight masks to choose the most readable) was about half
of a registration's time.
"""

import io

import segno
from markupsafe import Markup


def qr_svg(text: str) -> Markup:
    """`text`'s QR code as inline SVG, 4 px a module."""
    svg = segno.make(text, error="m").svg_inline(scale=4, border=2, omitsize=True)
    return Markup(svg)  # noqa: S704 - segno's own SVG: the text is only in its modules


def qr_png(text: str) -> bytes:
    """`text`'s QR code as a PNG image, big enough to scan from a phone's screen."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()
