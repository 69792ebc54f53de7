"""Read an Outlook-style Autodiscover request ([MS-OXDSCLI] §2.2.3, the "POX" request).

The request is ``<Autodiscover xmlns=".../autodiscover/outlook/requestschema/2006"><Request>
<EMailAddress>jane@example.ch</EMailAddress><AcceptableResponseSchema>.../outlook/
responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>``. It comes from
anyone on the internet, so it is parsed with defusedxml (no DTDs, no entities, no external
references) after the caller has bounded its size, and only the two elements we need are read.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTLOOK_RESPONSE_SCHEMA = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)
MAX_ADDRESS = 320


class BadPoxRequest(ValueError):
    """The request is not an Autodiscover request we can answer; ``str()`` says why."""


@dataclass(frozen=True)
class PoxRequest:
    email: str
    schema: str | None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_request(body: bytes) -> PoxRequest:
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, defusedxml.DefusedXmlException, ValueError, RecursionError):
        raise BadPoxRequest("the request body is not well-formed XML without a DTD") from None
    if _local(root.tag) != "Autodiscover":
        raise BadPoxRequest("the request is not an Autodiscover request")
    request = next((el for el in root if _local(el.tag) == "Request"), None)
    if request is None:
        raise BadPoxRequest("the Autodiscover request has no Request element")
    email = schema = None
    for child in request:
        name = _local(child.tag)
        if name == "EMailAddress":
            email = (child.text or "").strip()
        elif name == "AcceptableResponseSchema":
            schema = (child.text or "").strip()
    if not email:
        raise BadPoxRequest("the Autodiscover request has no EMailAddress")
    if len(email) > MAX_ADDRESS:
        raise BadPoxRequest("the EMailAddress is too long")
    return PoxRequest(email=email, schema=schema)
