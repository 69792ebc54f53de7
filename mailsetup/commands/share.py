"""``mailsetup share``: render a profile, serve it once on the LAN, print the link and a QR code.

iOS installs a profile only when Safari hands it over with the type
``application/x-apple-aspen-config`` from a direct link; a file on a laptop's disk does not get
onto the phone by itself. This command bridges that: the phone's camera reads the QR code,
Safari opens the link, the profile installs. The link carries a random token (256 bits) and
nothing else; it works once, and until ``--expires`` at most (docs/share.md).
"""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mailsetup.commands.options import option, same_as
from mailsetup.commands.profile import ProfileRequest
from mailsetup.errors import BadInput, MailsetupError, OutputError

if TYPE_CHECKING:
    from mailsetup.share.server import Payload, ShareServer

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
# (client, format) pairs a phone can take over a link; everything else is a desktop file.
SHAREABLE = {("apple", None), ("dav", "mobileconfig"), ("dav", "davx5")}


class NotDelivered(MailsetupError):
    """The link expired unused, or the transfer broke off: the phone has nothing."""

    exit_code = 1


def _as_profile(name: str, help: str | None = None) -> Any:
    """``profile``'s declaration of option ``name``: share renders the same file, same options.

    ``help`` replaces the text where the option means something else here.
    """
    return same_as(ProfileRequest, name, help)


@dataclass(frozen=True)
class ShareRequest:
    email: str = _as_profile("email")
    name: str | None = _as_profile("name")
    sync_user: str | None = _as_profile("sync_user")
    client: str = _as_profile("client")
    services: str = _as_profile("services")
    format: str | None = _as_profile("format")
    smtp_port: int | None = _as_profile("smtp_port")
    embed_password: bool = _as_profile(
        "embed_password",
        help="Refused: over plain HTTP anyone on the network would read the password.",
    )
    provider: str | None = _as_profile("provider")
    provider_file: Path | None = _as_profile("provider_file")
    sign_cert: Path | None = _as_profile("sign_cert")
    sign_key: Path | None = _as_profile("sign_key")
    sign_chain: Path | None = _as_profile("sign_chain")
    host: str | None = option(
        "--host",
        default=None,
        metavar="IP",
        help="Address to listen on (default: this machine's address on the local network).",
    )
    port: int = option(
        "--port", default=0, metavar="PORT", min=0, max=65535, help="Port (default: any free)."
    )
    expires: str = option(
        "--expires",
        default="10m",
        metavar="DURATION",
        help="How long the link stays valid: 30s, 10m, 1h (1s to 24h).",
    )
    qr_png: Path | None = option(
        "--qr-png", default=None, metavar="PATH", help="Also write the QR code as a PNG file."
    )
    qr_svg: Path | None = option(
        "--qr-svg", default=None, metavar="PATH", help="Also write the QR code as an SVG file."
    )
    force: bool = option(
        "--force", default=False, help="Replace an existing --qr-png or --qr-svg file."
    )


def _check_shareable(req: ShareRequest) -> None:
    from mailsetup.render import client_spec

    spec, fmt = client_spec(req.client, req.format)  # unknown client or format: usual message
    if (spec.name, fmt.name or None) not in SHAREABLE:
        raise BadInput(
            f"share sends a profile to a phone; --client {req.client}"
            + (f" --format {req.format}" if req.format else "")
            + " is a file for a computer",
            "use --client apple, or --client dav --format davx5|mobileconfig; "
            "for the others run mailsetup profile",
        )
    if req.embed_password:
        raise BadInput(
            "--embed-password over plain HTTP would show the password to anyone on the network",
            "leave it out: the phone asks for the password while installing; or write the file "
            "with mailsetup profile --embed-password and send it over AirDrop",
        )


def _listen_host(host: str | None) -> str | None:
    """``--host`` as a literal IP address the phone can reach (never a wildcard)."""
    import ipaddress

    if host is None:
        return None
    try:
        ip = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        raise BadInput(
            f"--host {host!r} is not an IP address", "pass one such as 192.168.1.20"
        ) from None
    if ip.is_unspecified or ip.is_multicast:
        raise BadInput(
            f"--host {host} is not one address a phone can open",
            "pass the address of this machine on the phone's network, such as 192.168.1.20",
        )
    return str(ip)


def _payload(req: ShareRequest) -> tuple[Payload, str]:
    """Render exactly what ``mailsetup profile`` writes; return the server payload and a name."""
    from mailsetup.account import make_account
    from mailsetup.mobileconfig import MEDIA_TYPE
    from mailsetup.provider import load_provider
    from mailsetup.render import RenderOptions, parse_services, render
    from mailsetup.share.server import Payload

    account = make_account(req.email, req.name, req.sync_user)
    provider = load_provider(req.provider, path=req.provider_file)
    services = parse_services(req.services)
    provider.smtp_on_port(req.smtp_port)
    options = RenderOptions(services=services, smtp_port=req.smtp_port, format=req.format)
    if req.format and req.format.lower() == "davx5":
        import html

        from mailsetup.render.dav import davx5_link

        if req.sign_cert or req.sign_key or req.sign_chain:
            from mailsetup.mobileconfig.sign import sign_request

            sign_request(req.sign_cert, req.sign_key, req.sign_chain, "davx5 link")  # refuses
        link = davx5_link(account, provider, options)
        page = (
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>DAVx5</title>'
            f'<p><a href="{html.escape(link)}">Open DAVx5</a></p></html>\n'
        )
        payload = Payload(page.encode(), "text/html; charset=utf-8", location=link)
        return payload, "the DAVx5 link"
    (only,) = render(req.client, account, provider, options).files
    data = sign_if_asked(only.data, req, only.name)
    return Payload(data, MEDIA_TYPE, filename=only.name), only.name


def sign_if_asked(data: bytes, req: ShareRequest, name: str) -> bytes:
    """The bytes ``mailsetup profile`` would write: signed with ``--sign-*`` (docs/signing.md).

    What the device will show goes to stderr (stdout carries the link and the QR code)."""
    if not (req.sign_cert or req.sign_key or req.sign_chain):
        return data
    from mailsetup.mobileconfig.sign import sign_outputs, sign_request
    from mailsetup.model import OutputFile

    sign = sign_request(req.sign_cert, req.sign_key, req.sign_chain, name)
    if sign is None:
        return data
    (signed,) = sign_outputs([OutputFile(name, data)], sign, sys.stderr)
    return signed.data


def _bind(host: str, port: int, payload: Payload, token: str) -> ShareServer:
    import errno

    from mailsetup.share.server import ShareServer

    try:
        return ShareServer(host, port, payload, token)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(
                f"port {port} is in use", "choose another with --port, or leave --port out"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise BadInput(
                f"--host {host} is not an address of this machine",
                "pass one of its own addresses, or leave --host out",
            ) from None
        if exc.errno == errno.EACCES:
            raise BadInput(
                f"port {port} needs administrator rights", "use a port above 1023"
            ) from None
        raise BadInput(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None


def _url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{token}"


def run_share(req: ShareRequest, out: TextIO | None = None) -> str:
    """Do the whole command; return the address the file was sent to.

    Raises :class:`NotDelivered` when the link expires unused; ``KeyboardInterrupt`` (Ctrl-C)
    reaches the caller after the listening socket is closed.
    """
    import ipaddress
    import secrets

    from mailsetup.share.expiry import describe, parse_duration

    stream = out or sys.stdout
    _check_shareable(req)
    seconds = parse_duration(req.expires)
    host = _listen_host(req.host)
    payload, what = _payload(req)
    note = ""
    if host is not None and ipaddress.ip_address(host).is_loopback:
        note = f"{host} is reachable from this machine only, not from a phone (for testing)."
    if host is None:
        from mailsetup.share.lan import choose_for_this_machine

        choice = choose_for_this_machine()
        host = choice.address
        note = f"Listening on {host}: {choice.reason}; --host chooses another."
        if choice.public:
            note += " It is reachable from the internet: only the token protects the link."
    token = secrets.token_urlsafe(TOKEN_BYTES)
    server = _bind(host, req.port, payload, token)
    try:
        url = _url(host, server.port, token)
        _write_codes(req, url)
        # Serve from here on: the URL below is all a client needs, the QR code comes after.
        server.start(time.monotonic() + seconds)
        until = time.strftime("%H:%M", time.localtime(time.time() + seconds))
        print(
            f"Open this link on the phone (it works once, for {describe(seconds)}, until "
            f"{until}):\n{url}",
            file=stream,
            flush=True,
        )
        _print_code(url, stream)
        if note:
            print(note, file=stream)
        print("Waiting for the phone... (Ctrl-C stops)", file=stream, flush=True)
        outcome = server.wait()
    finally:
        server.stop()
    if outcome.served_to is None:
        if outcome.failed:
            raise NotDelivered(
                f"sending {what} broke off ({outcome.failed})", "run the command again"
            )
        raise NotDelivered(
            f"the link expired unused after {describe(seconds)}",
            "run the command again; --expires gives more time",
        )
    print(f"Sent {what} to {outcome.served_to}.", file=stream)
    davx5 = req.format is not None and req.format.lower() == "davx5"
    print(
        "On the phone: DAVx5 opens its login with the link; enter the password there."
        if davx5
        else "On the phone: Settings > Profile Downloaded > Install; it asks for the passwords.",
        file=stream,
        flush=True,
    )
    return outcome.served_to


def _write_codes(req: ShareRequest, url: str) -> None:
    if not (req.qr_png or req.qr_svg):
        return
    from mailsetup.output import StagedWrites
    from mailsetup.share import qr

    if req.qr_png and req.qr_svg and req.qr_png.resolve() == req.qr_svg.resolve():
        raise OutputError("--qr-png and --qr-svg name the same file", "give two names")
    with StagedWrites(force=req.force) as batch:  # both files, or neither
        if req.qr_png:
            batch.add(req.qr_png, qr.png_bytes(url))
        if req.qr_svg:
            batch.add(req.qr_svg, qr.svg_bytes(url))
        batch.commit()


def _print_code(url: str, stream: TextIO) -> None:
    from mailsetup.share import qr

    stream.write(qr.terminal_text(url))
    stream.flush()
