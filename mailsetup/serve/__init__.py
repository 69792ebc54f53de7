"""``mailsetup serve``: autoconfig, autodiscover and profiles over HTTP for whole domains.

One ASGI application (Starlette) for every way a client asks for its settings: Mozilla
autoconfig, Outlook-style POX autodiscover, RFC 6764 ``.well-known`` redirects, and an
onboarding page where a person gets an Apple profile, a DAVx5 link, Thunderbird or eM Client
files, or a QR code leading to a single-use link. The bytes come from the same pure renderers as
``mailsetup profile`` (:mod:`mailsetup.render`), so what the server hands out and what the
command writes can never differ. State that must hold across workers and machines (one-time
links, rate-limit counters, the CSRF key, the user directory) lives in a database: SQLite by
default, PostgreSQL to scale out. docs/serve.md is the operator's guide.

Nothing here is imported by ``mailsetup --help`` or the other commands.
"""
