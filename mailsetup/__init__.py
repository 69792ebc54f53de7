"""mailsetup: set up mail, calendar and contacts clients for a provider, then prove it works.

The package is importable as a library: :mod:`mailsetup.provider` loads provider data,
:mod:`mailsetup.account` validates user input, :mod:`mailsetup.render` turns both into client
configuration bytes, and :mod:`mailsetup.output` writes them safely. The CLI is a thin layer
over these.
"""

__version__ = "0.1.0"
