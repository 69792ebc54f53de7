"""Route ``mailsetup profile`` to the team paths: ``--csv``, ``--csv-template``, several
``--email``, ``--one-profile``; and check the options that only make sense together.

Kept apart from :mod:`mailsetup.commands.profile` (one mailbox, one output) so that each
stays small; the CLI asks :attr:`TeamProfileOptions.wanted` and calls one or the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailsetup.errors import BadInput


@dataclass(frozen=True)
class TeamProfileOptions:
    emails: list[str]
    names: list[str]
    sync_users: list[str]
    csv: Path | None = None
    csv_template: bool = False
    dry_run: bool = False
    atomic: bool = False
    one_profile: bool = False

    @property
    def wanted(self) -> bool:
        return bool(
            self.csv
            or self.csv_template
            or len(self.emails) > 1
            or self.dry_run
            or self.atomic
            or self.one_profile
        )


def one_mailbox(team: TeamProfileOptions) -> tuple[str, str | None, str | None]:
    """The single ``--email`` path's values; usage errors for what does not fit."""
    if not team.emails:
        raise BadInput("--email is required", "pass --email you@example.ch, or --csv FILE")
    if len(team.names) > 1:
        raise BadInput("more --name than --email", "give one --name per --email, in order")
    if len(team.sync_users) > 1:
        raise BadInput("more --sync-user than --email", "give one --sync-user for all, or one each")
    return (
        team.emails[0],
        team.names[0] if team.names else None,
        team.sync_users[0] if team.sync_users else None,
    )


def run_team_profile(team: TeamProfileOptions, **options: object) -> None:
    """Run the team path; Ctrl-C anywhere is exit 130 with one line, never a traceback."""
    from mailsetup.errors import Interrupted

    try:
        _run(team, **options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        raise Interrupted("interrupted") from None


def _run(
    team: TeamProfileOptions,
    *,
    client: str,
    services: str,
    fmt: str | None,
    output: str | None,
    force: bool,
    smtp_port: int | None,
    embed_password: bool,
    provider_file: Path | None,
) -> None:
    if team.csv_template:
        if team.csv or team.emails:
            raise BadInput("--csv-template prints an example and takes no --csv or --email")
        from mailsetup.commands.bulk import write_template

        write_template(output, force)
        return
    if team.csv and team.emails:
        raise BadInput("--csv and --email do not go together", "put every address in the CSV")
    if not team.csv and (team.dry_run or team.atomic or team.one_profile):
        raise BadInput("--dry-run, --atomic and --one-profile work with --csv FILE")
    if team.csv and (team.names or team.sync_users):
        raise BadInput("--name and --sync-user come from the CSV's columns with --csv")
    if team.one_profile or not team.csv:
        if team.dry_run or team.atomic:
            raise BadInput("--one-profile writes one file: --dry-run and --atomic do not apply")
        if fmt is not None:
            raise BadInput("several mailboxes in one profile take no --format")
        from mailsetup.commands.multi import MultiRequest, run_multi

        run_multi(
            MultiRequest(
                emails=team.emails,
                names=team.names,
                sync_users=team.sync_users,
                csv=team.csv,
                client=client,
                services=services,
                output=output,
                force=force,
                smtp_port=smtp_port,
                embed_password=embed_password,
                provider_file=provider_file,
            )
        )
        return
    if embed_password:
        raise BadInput(
            "--embed-password does not work with --csv: every mailbox has its own password",
            "leave it out: each device asks for its password",
        )
    from mailsetup.commands.bulk import BulkRequest, run_bulk

    run_bulk(
        BulkRequest(
            csv=team.csv,
            output=output,
            client=client,
            services=services,
            format=fmt,
            force=force,
            dry_run=team.dry_run,
            atomic=team.atomic,
            smtp_port=smtp_port,
            provider_file=provider_file,
        )
    )
