"""The work behind each CLI command, callable without the CLI."""
