"""``mailsetup profile``'s team paths: ``--csv``, ``--csv-template``, several ``--email``,
``--one-profile``; and the options that only make sense together.

:class:`ProfileCommand` is the whole ``profile`` command line: :class:`ProfileRequest` (one
mailbox, one output) with ``--email``, ``--name`` and ``--sync-user`` repeatable and the team
options added, each declared once on its field (commands/options.py). The CLI builds the
command from it and calls :func:`run_profile_command`, which sends one mailbox to
:func:`mailsetup.commands.profile.run_profile` unchanged and everything else here.
"""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from mailsetup.commands.options import option
from mailsetup.commands.profile import ProfileRequest
from mailsetup.errors import BadInput


@dataclass(frozen=True)
class ProfileCommand(ProfileRequest):
    email: list[str] | None = option(  # type: ignore[assignment]
        "--email",
        "-e",
        default=None,
        metavar="ADDRESS",
        help="The mailbox address; repeat it for several mailboxes in one profile.",
    )
    name: list[str] | None = option(  # type: ignore[assignment]
        "--name",
        "-n",
        default=None,
        metavar="TEXT",
        help="Display name (sender name); one per --email, in the same order.",
    )
    sync_user: list[str] | None = option(  # type: ignore[assignment]
        "--sync-user",
        default=None,
        metavar="TEXT",
        help="CalDAV/CardDAV username, when the provider has a separate one "
        "(Infomaniak: e.g. AB12345); one for every --email, or one each.",
    )
    csv: Path | None = option(
        "--csv",
        default=None,
        metavar="PATH",
        help="A team's CSV file (columns email, name, sync_user, client, services): one output "
        "per row in the folder -o DIR, with index.csv (docs/organisations.md).",
    )
    csv_template: bool = option(
        "--csv-template", default=False, help="Print an example team CSV file and stop."
    )
    dry_run: bool = option(
        "--dry-run", default=False, help="With --csv: check every row, write nothing."
    )
    atomic: bool = option(
        "--atomic", default=False, help="With --csv: write every row, or none if one fails."
    )
    one_profile: bool = option(
        "--one-profile",
        default=False,
        help="With --csv: every row's mailbox in one profile (apple or thunderbird).",
    )

    @property
    def emails(self) -> list[str]:
        return list(self.email or [])

    @property
    def names(self) -> list[str]:
        return list(self.name or [])

    @property
    def sync_users(self) -> list[str]:
        return list(self.sync_user or [])

    @property
    def team(self) -> bool:
        """Whether this is a team path rather than the single-mailbox command."""
        return bool(
            self.csv
            or self.csv_template
            or len(self.emails) > 1
            or self.dry_run
            or self.atomic
            or self.one_profile
        )

    def single(self) -> ProfileRequest:
        """The one-mailbox request; usage errors for what does not fit."""
        if not self.emails:
            raise BadInput("--email is required", "pass --email you@example.ch, or --csv FILE")
        if len(self.names) > 1:
            raise BadInput("more --name than --email", "give one --name per --email, in order")
        if len(self.sync_users) > 1:
            raise BadInput(
                "more --sync-user than --email", "give one --sync-user for all, or one each"
            )
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(ProfileRequest)}
        values.update(
            email=self.emails[0],
            name=self.names[0] if self.names else None,
            sync_user=self.sync_users[0] if self.sync_users else None,
        )
        return ProfileRequest(**values)


def run_profile_command(cmd: ProfileCommand) -> None:
    """``mailsetup profile``: one mailbox as before, or a team path.

    Ctrl-C is the CLI's (cli.handles_errors: one line, exit 130), as for every command; a run
    over many rows turns it into its own message of how far it got (commands/bulk.py).
    """
    if cmd.team:
        _run_team(cmd)
    else:
        from mailsetup.commands.profile import run_profile

        run_profile(cmd.single())


def _run_team(cmd: ProfileCommand) -> None:
    if cmd.sign_cert or cmd.sign_key or cmd.sign_chain:  # never silently unsigned
        raise BadInput(
            "--sign-cert signs the profile of one mailbox; not with --csv or several --email",
            "run `mailsetup profile --email ... --sign-cert ...` for each profile to sign",
        )
    if cmd.csv_template:
        if cmd.csv or cmd.emails:
            raise BadInput("--csv-template prints an example and takes no --csv or --email")
        from mailsetup.commands.bulk import write_template

        write_template(cmd.output, cmd.force, cmd.provider, cmd.provider_file)
        return
    if cmd.csv and cmd.emails:
        raise BadInput("--csv and --email do not go together", "put every address in the CSV")
    if not cmd.csv and (cmd.dry_run or cmd.atomic or cmd.one_profile):
        raise BadInput("--dry-run, --atomic and --one-profile work with --csv FILE")
    if cmd.csv and (cmd.names or cmd.sync_users):
        raise BadInput("--name and --sync-user come from the CSV's columns with --csv")
    if cmd.one_profile or not cmd.csv:
        if cmd.dry_run or cmd.atomic:
            raise BadInput("--one-profile writes one file: --dry-run and --atomic do not apply")
        if cmd.format is not None:
            raise BadInput("several mailboxes in one profile take no --format")
        from mailsetup.commands.multi import MultiRequest, run_multi

        run_multi(
            MultiRequest(
                emails=cmd.emails,
                names=cmd.names,
                sync_users=cmd.sync_users,
                csv=cmd.csv,
                client=cmd.client,
                services=cmd.services,
                output=cmd.output,
                force=cmd.force,
                smtp_port=cmd.smtp_port,
                embed_password=cmd.embed_password,
                provider=cmd.provider,
                provider_file=cmd.provider_file,
            )
        )
        return
    if cmd.embed_password:
        raise BadInput(
            "--embed-password does not work with --csv: every mailbox has its own password",
            "leave it out: each device asks for its password",
        )
    from mailsetup.commands.bulk import BulkRequest, run_bulk

    run_bulk(
        BulkRequest(
            csv=cmd.csv,
            output=cmd.output,
            client=cmd.client,
            services=cmd.services,
            format=cmd.format,
            force=cmd.force,
            dry_run=cmd.dry_run,
            atomic=cmd.atomic,
            smtp_port=cmd.smtp_port,
            provider=cmd.provider,
            provider_file=cmd.provider_file,
        )
    )
