"""The shared link as a QR code: on the terminal for the phone's camera, or as a PNG/SVG file.

segno (already used for the DAVx5 code) makes standard QR codes (ISO/IEC 18004) without
Pillow. The code holds the URL and nothing else; the URL holds the address of this machine and
the token, never a password or the mail address.
"""

from __future__ import annotations

import io
from typing import Any


def _make(url: str) -> Any:
    import segno

    # Level M survives a slightly blurred or glared screen; never a Micro QR, which cameras skip.
    return segno.make(url, error="m", micro=False)


def terminal_text(url: str) -> str:
    """Half-block characters, two modules per character row, for a dark or light terminal."""
    out = io.StringIO()
    _make(url).terminal(out=out, compact=True)
    return out.getvalue()


def png_bytes(url: str) -> bytes:
    """A PNG for printing: 8 pixels per module, black on white, with the quiet zone."""
    buf = io.BytesIO()
    _make(url).save(buf, kind="png", scale=8)
    return buf.getvalue()


def svg_bytes(url: str) -> bytes:
    """The same code as SVG, which scales to any print size."""
    buf = io.BytesIO()
    _make(url).save(buf, kind="svg", scale=8, xmldecl=True)
    return buf.getvalue()
