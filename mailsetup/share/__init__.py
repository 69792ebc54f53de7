"""``mailsetup share``: hand a rendered profile to a phone on the same network, once.

The modules each do one job: :mod:`~mailsetup.share.lan` picks the address the phone can reach
(pure logic over an interface list, plus a route lookup that sends nothing),
:mod:`~mailsetup.share.expiry` reads ``--expires``, :mod:`~mailsetup.share.server` is the
one-shot HTTP server and :mod:`~mailsetup.share.qr` draws the link for the phone's camera.
``mailsetup.commands.share`` ties them together. See docs/share.md.
"""
