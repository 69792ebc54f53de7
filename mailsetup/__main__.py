"""Allow ``python -m mailsetup``."""

from mailsetup.cli import main

main()
