"""Apple configuration profiles as files: sign them, read them back, lint them.

``sign`` wraps a rendered profile in CMS SignedData (RFC 5652) so that macOS and iOS can show
who made it; ``read`` opens any ``.mobileconfig`` (XML plist, binary plist, or CMS-signed,
from mailsetup or another tool) with bounded size and depth; ``lint`` checks it against
Apple's published payload schemas (shipped in ``schemas/`` with their licence) and against the
failures seen in the field. Nothing here is imported until a command needs it: cryptography
alone costs more start-up time than the rest of ``mailsetup profile``.
"""

from __future__ import annotations

# An Apple profile is recognised by what it is, not by which client produced it: the file
# extension Apple registers for the media type ``application/x-apple-aspen-config``.
PROFILE_SUFFIX = ".mobileconfig"
MEDIA_TYPE = "application/x-apple-aspen-config"


def is_profile_name(name: str) -> bool:
    """Whether an output file called ``name`` is an Apple configuration profile."""
    return name.lower().endswith(PROFILE_SUFFIX)
