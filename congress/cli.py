"""The ``congress`` command: serve, demo, migrate, create-admin, import-delegates, archive,
verify-poll."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import click

T = TypeVar("T")


def _run(work: Awaitable[T]) -> T:
    async def with_pool() -> T:
        from congress import database
        from congress.settings import get_settings

        async with database.database_pool(get_settings().db_pool_size):
            return await work

    return asyncio.run(with_pool())


async def _migrate() -> None:
    from congress import database

    await database.migrate()


def _echo_demo(congress_id: int, logins: list[Any]) -> None:
    from congress.settings import get_settings

    base = get_settings().public_url
    click.echo("")
    click.echo("Đại hội Công đoàn tỉnh Hà Tĩnh lần thứ XIX — demo congress ready.")
    click.echo(f"  Console:      {base}/console")
    click.echo(f"  The congress: {base}/console/congresses/{congress_id}")
    click.echo(f"  API (OpenAPI): {base}/schema")
    click.echo("")
    click.echo("Demo accounts (new passwords at every start):")
    for username, password, role in logins:
        click.echo(f"  {role.value:<12} {username:<18} {password}")
    click.echo("")


async def _demo() -> tuple[int, list[Any]]:
    from congress import demo

    await _migrate()
    congress_id = await demo.load_demo()
    return congress_id, await demo.reset_demo_accounts()


@click.group()
def main() -> None:
    """Congress and meeting management for trade unions."""
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    sys.path.insert(0, str(Path.cwd()))


@main.command()
def migrate() -> None:
    """Apply the database migrations of every app."""
    _run(_migrate())
    click.echo("Migrations applied.")


@main.command()
def demo() -> None:
    """Create the demo congress (once) and print demo accounts for each role."""
    congress_id, logins = _run(_demo())
    _echo_demo(congress_id, logins)


@main.command()
@click.option("--demo", "with_demo", is_flag=True, help="Load the demo congress first.")
@click.option("--host", default=None, help="Address to listen on (CONGRESS_HOST).")
@click.option("--port", default=None, type=int, help="Port (CONGRESS_PORT).")
def serve(with_demo: bool, host: str | None, port: int | None) -> None:
    """Apply migrations, then serve the app with uvicorn."""
    import uvicorn

    from congress.settings import get_settings

    settings = get_settings()
    if with_demo:
        congress_id, logins = _run(_demo())
        _echo_demo(congress_id, logins)
    else:
        _run(_migrate())
        click.echo(f"Console: {settings.public_url}/console")
    uvicorn.run(
        "congress.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        # The client's address and scheme from X-Forwarded-* only when the peer is one of
        # CONGRESS_TRUSTED_PROXIES (none by default): one setting decides whom to believe.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        log_level="info",
        # Live frames are a few hundred bytes: per-message compression would buy nothing and
        # cost tens of kilobytes per open socket (10,000 readers of the live page).
        ws_per_message_deflate=False,
    )


@main.command("create-admin")
@click.argument("username")
@click.option("--full-name", default="", help="Shown in the console and the event log.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(username: str, full_name: str, password_stdin: bool) -> None:
    """Create an administrator account."""
    from congress import accounts
    from congress.errors import CongressError
    from congress.i18n import translate

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("The passwords differ.")

    async def create() -> int:
        await _migrate()
        return await accounts.create_account(username, full_name, password, ["admin"])

    try:
        account_id = _run(create())
    except CongressError as exc:
        raise click.ClickException(translate(exc.message, **exc.params)) from None
    click.echo(f"Administrator {username} created (id {account_id}).")


@main.command("import-delegates")
@click.argument("congress_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-delegations", is_flag=True, help="Create delegations the file names.")
@click.option("--dry-run", is_flag=True, help="Only show the preview.")
def import_delegates(congress_id: int, file: Path, create_delegations: bool, dry_run: bool) -> None:
    """Import delegates from a CSV or XLSX file: all rows, or none if any has a problem."""
    from congress.delegates import services
    from congress.errors import CongressError
    from congress.eventlog import SYSTEM
    from congress.i18n import translate
    from congress.problems import problem_message

    content = file.read_bytes()

    async def run() -> tuple[Any, Any]:
        await _migrate()
        token = await services.stage_import(congress_id, file.name, content, SYSTEM)
        preview = await services.preview_import(congress_id, token, create_delegations)
        if dry_run or not preview.can_apply:
            return preview, None
        return preview, await services.apply_import(congress_id, token, create_delegations, SYSTEM)

    try:
        preview, result = _run(run())
    except CongressError as exc:
        raise click.ClickException(translate(exc.message, **exc.params)) from None
    for problem in preview.sheet.problems:
        click.echo(f"file: {translate(problem_message(problem.code), value=problem.value)}")
    for row in preview.rows:
        for problem in row.problems:
            message = translate(problem_message(problem.code), value=problem.value)
            click.echo(f"row {row.row.line}: {message}")
    counts = preview.counts
    click.echo(
        f"{counts['create']} new, {counts['update']} updated, "
        f"{counts['unchanged']} unchanged, {counts['error']} with problems"
    )
    if result is None and not dry_run:
        raise click.ClickException("Nothing was imported: fix the problems and try again.")
    if result is not None:
        click.echo("Imported.")


@main.group()
def archive() -> None:
    """The digital archive: integrity checks, export and import of the congress record."""


def _say_store_report(report: Any) -> None:
    """What `verify_store` found, a line per damaged file; exit 1 if any."""
    for sha in report.missing:
        click.echo(f"missing: {sha}")
    for sha in report.changed:
        click.echo(f"changed: {sha}")
    click.echo(
        f"{report.checked} files checked, {len(report.missing)} missing, "
        f"{len(report.changed)} changed"
    )
    if not report.ok:
        raise SystemExit(1)


@archive.command("verify")
def archive_verify() -> None:
    """Re-hash every stored file and report any that changed or went missing."""
    from documents.archive import verify_store

    report = _run(verify_store())
    _say_store_report(report)


@archive.command("export")
@click.argument("congress_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--include-confidential", is_flag=True, help="Also export confidential papers.")
def archive_export(congress_id: int, file: Path, include_confidential: bool) -> None:
    """Export the whole congress record as one ZIP with a manifest."""
    from congress.eventlog import Actor
    from documents.archive import export_archive

    actor = Actor(kind="system", name="congress archive export")
    fingerprint = _run(export_archive(congress_id, file, include_confidential, actor))
    click.echo(f"Exported to {file}\nFingerprint (sha256 of manifest.json): {fingerprint}")


@archive.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def archive_verify_export(file: Path) -> None:
    """Check every byte of an export against its manifest."""
    from documents.archive import verify_export

    report = verify_export(file)
    for kind, names in (
        ("missing", report.missing),
        ("changed", report.changed),
        ("added", report.added),
    ):
        for name in names:
            click.echo(f"{kind}: {name}")
    click.echo(f"fingerprint: {report.fingerprint}")
    click.echo(
        f"{report.documents} documents, {report.files} files: "
        f"{'intact' if report.ok else 'DAMAGED'}"
    )
    if not report.ok:
        raise SystemExit(1)


@main.command("verify-poll")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_poll(file: Path) -> None:
    """Recompute a poll's tally and hash chain from its JSON export."""
    import msgspec

    from congress.voting.verify import verify_export

    try:
        export = msgspec.json.decode(file.read_bytes())
    except msgspec.DecodeError as error:
        raise click.ClickException(f"not a poll export: {error}") from None
    if not isinstance(export, dict) or export.get("format") != "congress-poll/1":
        raise click.ClickException("not a poll export (format congress-poll/1)")
    report = verify_export(export)
    for check in report.checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    click.echo(f"fingerprint: {report.fingerprint or '-'}")
    click.echo("the poll verifies" if report.ok else "the poll DOES NOT verify")
    if not report.ok:
        raise SystemExit(1)


@archive.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def archive_import(file: Path) -> None:
    """Recreate an exported congress record in this instance."""
    from congress.errors import CongressError
    from congress.eventlog import Actor
    from congress.i18n import translate
    from documents.archive import import_archive

    async def run() -> int:
        await _migrate()
        return await import_archive(file, Actor(kind="system", name="congress archive import"))

    try:
        congress_id = _run(run())
    except CongressError as exc:
        raise click.ClickException(translate(exc.message, **exc.params)) from None
    click.echo(f"Imported as congress {congress_id}.")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Back up the database, the secret key and the stored files into one file (mode 600),
    while the server runs."""
    from congress.backup import BackupError, create_backup
    from congress.settings import get_settings
    from documents.storage import file_store

    try:
        report = asyncio.run(create_backup(file, get_settings(), file_store()))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for sha in report.missing:
        click.echo(f"missing or changed in the store, left out: {sha}")
    click.echo(
        f"Backup of the {report.engine} database and {report.files} files written to {file}.\n"
        f"Fingerprint (sha256 of manifest.json): {report.fingerprint}\n"
        "It holds the secret key: keep it as safe as the server itself."
    )
    if report.missing:
        raise SystemExit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Restore a backup into an empty instance, then verify every stored file."""
    from congress.backup import BackupError, restore_backup
    from congress.settings import get_settings
    from documents.archive import verify_store
    from documents.storage import file_store

    try:
        restored = asyncio.run(restore_backup(file, get_settings(), file_store()))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Restored the backup of {restored.created_at} (version {restored.app_version}, "
        f"fingerprint {restored.fingerprint}): the {restored.engine} database, "
        f"{restored.files} files and the secret key."
    )
    if restored.secret_key_overridden:
        click.echo(
            "Warning: CONGRESS_SECRET_KEY is set and differs from the backup's key, now in "
            "var/secret_key: cards and sessions from before open nothing until it is unset."
        )

    async def migrate_and_verify() -> Any:
        await _migrate()
        return await verify_store()

    report = _run(migrate_and_verify())
    _say_store_report(report)
