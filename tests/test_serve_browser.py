"""The onboarding page in a real browser: Debian's Chromium, driven by Playwright, no JavaScript.

JavaScript is switched off for the whole session: the page must work as plain HTML. The
browser fills the form through its labels (so each field is reachable by its accessible name),
downloads the Apple profile, and shows a QR code that zxing-cpp reads from a screenshot; the
decoded link gives the profile once.
"""

from __future__ import annotations

import plistlib
import shutil
import struct
import zlib

import httpx
import pytest

from tests.apple_schema import validate_profile
from tests.conftest import require_binary
from tests.serve_support import ServeProcess

pytestmark = [pytest.mark.slow, pytest.mark.servers]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server(serve_factory, tmp_path_factory) -> ServeProcess:
    db = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'serve.sqlite3'}"
    return serve_factory(db, mode="cli")


@pytest.fixture(scope="module")
def browser():
    require_binary("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    yield context.new_page()
    context.close()


def fill_form(page, base_url: str, device_label: str) -> None:
    page.goto(base_url + "/")
    assert page.title().startswith("Set up your mailbox")
    page.get_by_label("Email address").fill("jane.doe@example.ch")
    page.get_by_label("Your name (optional)").fill("Jane Doe")
    page.get_by_label("Sync username (optional)").fill("AB12345")
    page.get_by_label(device_label).check()


def test_form_downloads_the_apple_profile(server, page):
    fill_form(page, server.base_url, "iPhone, iPad or Mac")
    with page.expect_download() as info:
        page.get_by_role("button", name="Get it on this device").click()
    download = info.value
    assert download.suggested_filename == "jane.doe@example.ch.mobileconfig"
    profile = plistlib.loads(open(download.path(), "rb").read())  # noqa: SIM115
    assert validate_profile(profile) == []
    assert profile["PayloadDisplayName"].endswith("jane.doe@example.ch")


def test_form_errors_are_announced_next_to_the_form(server, page):
    page.goto(server.base_url + "/")
    page.get_by_label("Email address").fill("jane@elsewhere.ch")
    page.get_by_role("button", name="Get it on this device").click()
    alert = page.get_by_role("alert")
    assert "example.ch only" in alert.inner_text()
    assert page.get_by_label("Email address").input_value() == "jane@elsewhere.ch"


def test_qr_code_decodes_to_a_working_single_use_link(server, page):
    fill_form(page, server.base_url, "iPhone, iPad or Mac")
    page.get_by_role("button", name="Show a QR code for my phone").click()
    shown = page.locator("#one-time-link").inner_text()
    png = page.get_by_role("img", name="QR code of a one-time link to your settings").screenshot()
    decoded = decode_qr(png)
    assert decoded == [shown]
    assert shown.startswith(server.base_url + "/l/")
    with httpx.Client(timeout=15) as phone:
        first = phone.get(shown)
        second = phone.get(shown)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/x-apple-aspen-config"
    assert validate_profile(plistlib.loads(first.content)) == []
    assert second.status_code == 410
    # The browser that used the link up sees the person-facing explanation.
    page.goto(shown)
    assert "already used or has expired" in page.get_by_role("alert").inner_text()


# --- a small PNG reader for Chromium's screenshots (8-bit RGB/RGBA, all five filters) -------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_gray(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    out = bytearray()
    for y in range(height):
        base = y * (stride + 1)
        filt, row = raw[base], bytearray(raw[base + 1 : base + 1 + stride])
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up = prev[i]
            corner = prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                row[i] = (row[i] + left) & 0xFF
            elif filt == 2:
                row[i] = (row[i] + up) & 0xFF
            elif filt == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif filt == 4:
                row[i] = (row[i] + _paeth(left, up, corner)) & 0xFF
        prev = row
        out += bytes(row[x * bpp + 1] for x in range(width))  # the green channel is enough
    return width, height, bytes(out)


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp

    width, height, pixels = png_gray(png)
    image = memoryview(pixels).cast("B", (height, width))
    return [r.text for r in zxingcpp.read_barcodes(image)]
