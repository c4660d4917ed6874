"""``orechain users``: API users, roles and tokens; the audit log and undo from the command line.

Tokens are printed once, alone on stdout (messages go to stderr), so a script can capture them:
``TOKEN=$(orechain users add alice --role admin)``. Changes made here are audited as ``cli:<login>``.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Optional

import typer

from orechain.access.audit import Actor, ChangeError
from orechain.access.users import AccessError, Role
from orechain.interfaces.cli import DbOpt, FormatOpt, OutOpt, err, fail, open_store
from orechain.interfaces.output import Format, emit

users_app = typer.Typer(help="API users, roles (viewer, editor, admin) and tokens; the audit log and undo.",
                        no_args_is_help=True)

LabelOpt = Annotated[Optional[str], typer.Option(help="What the token is for (shown in `users list --tokens`).")]  # noqa: UP045
DaysOpt = Annotated[Optional[float], typer.Option(help="Days until the token expires (default: never).")]  # noqa: UP045


def _cli_actor() -> Actor:
    try:
        login = getpass.getuser()
    except Exception:  # no login name in some containers
        login = "unknown"
    return Actor(name=f"cli:{login}"[:80])


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name: lower-case letters, digits, . _ @ -")],
    role: Annotated[Role, typer.Option(help="viewer (read, audit log), editor (+ write, undo own), admin "
                                            "(+ undo any)")],
    token: Annotated[bool, typer.Option("--token/--no-token", help="Also make a first token.")] = True,
    label: LabelOpt = None,
    days: DaysOpt = None,
    note: Annotated[Optional[str], typer.Option(help="Who this is, for the list.")] = None,  # noqa: UP045
    db: DbOpt = None,
) -> None:
    """Add a user with a role and print a first API token (shown only now; store it safely).

    Example (the first admin of a new team database):
      TOKEN=$(orechain users add alice --role admin --db postgresql+psycopg://orechain@db/orechain)
    """
    from orechain.access import users

    with open_store(db) as store:
        try:
            users.add_user(store, name, role, _cli_actor(), note=note)
            err.print(f"added user {name} ({role.value})")
            if token:
                secret = users.issue_token(store, name, _cli_actor(), label=label, days=days)
                err.print("token (shown once; send it as 'Authorization: Bearer <token>'):")
                typer.echo(secret)
        except AccessError as exc:
            raise fail(exc) from exc


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="An existing user.")],
    label: LabelOpt = None,
    days: DaysOpt = None,
    db: DbOpt = None,
) -> None:
    """Make another API token for a user and print it (shown only now).

    Example: orechain users token alice --label laptop --days 90
    """
    from orechain.access import users

    with open_store(db) as store:
        try:
            secret = users.issue_token(store, name, _cli_actor(), label=label, days=days)
        except AccessError as exc:
            raise fail(exc) from exc
        typer.echo(secret)


@users_app.command("list")
def users_list(
    tokens: Annotated[bool, typer.Option("--tokens", help="List tokens (id, label, dates) instead of users.")] = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """List users (role, live tokens, disabled) or, with --tokens, tokens (never their secrets or hashes).

    Example: orechain users list --tokens --format csv
    """
    from orechain.access import users

    with open_store(db) as store:
        df = users.list_tokens(store) if tokens else users.list_users(store)
        emit(df, fmt, out_path, title="tokens" if tokens else "users")


@users_app.command("role")
def users_role(
    name: Annotated[str, typer.Argument(help="An existing user.")],
    role: Annotated[Role, typer.Argument(help="viewer, editor or admin")],
    db: DbOpt = None,
) -> None:
    """Change a user's role (its tokens follow at once).

    Example: orechain users role bob editor
    """
    from orechain.access import users

    with open_store(db) as store:
        try:
            users.set_role(store, name, role, _cli_actor())
        except AccessError as exc:
            raise fail(exc) from exc
        err.print(f"{name} is now {role.value}")


@users_app.command("revoke")
def users_revoke(
    name: Annotated[Optional[str], typer.Argument(help="Disable this user and revoke all its tokens.")] = None,  # noqa: UP045
    token_id: Annotated[Optional[str], typer.Option("--token", help="Revoke only this token (its id: the 12 "  # noqa: UP045
                                                                    "hex digits after 'oc_').")] = None,
    db: DbOpt = None,
) -> None:
    """Revoke one token (--token ID) or disable a user with all its tokens. Effective on the next request.

    Examples:
      orechain users revoke bob
      orechain users revoke --token 3f9c0a7b12de
    """
    from orechain.access import users

    if (name is None) == (token_id is None):
        raise fail(ValueError("give a user name or --token ID (one of them)"))
    with open_store(db) as store:
        try:
            if token_id is not None:
                users.revoke_token(store, token_id, _cli_actor())
                err.print(f"token {token_id} revoked")
            else:
                assert name is not None
                n = users.disable_user(store, name, _cli_actor())
                err.print(f"user {name} disabled; {n} token(s) revoked")
        except AccessError as exc:
            raise fail(exc) from exc


@users_app.command("log")
def users_log(
    actor: Annotated[Optional[str], typer.Option(help="Only changes by this user (or cli:<login>).")] = None,  # noqa: UP045
    table: Annotated[Optional[str], typer.Option(help="Only changes to this table (facilities, ...).")] = None,  # noqa: UP045
    record: Annotated[Optional[str], typer.Option(help="Only changes to this record id.")] = None,  # noqa: UP045
    change: Annotated[Optional[str], typer.Option(help="Only this change id.")] = None,  # noqa: UP045
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """The audit log, newest first: who changed which field of which record, old and new value, source.

    Example: orechain users log --table facilities --record saindak-copper-mine
    """
    from orechain.access.audit import changes

    with open_store(db) as store:
        emit(changes(store, change_id=change, actor=actor, table=table, record=record), fmt, out_path, title="changes")


@users_app.command("undo")
def users_undo(
    change_id: Annotated[str, typer.Argument(help="The change to undo (from `users log` or a write's response).")],
    note: Annotated[Optional[str], typer.Option(help="Why (kept in the log).")] = None,  # noqa: UP045
    db: DbOpt = None,
) -> None:
    """Undo any change as an administrator on the database host; the undo is itself logged.

    Example: orechain users undo 6f1c2d... --note "wrong source"
    """
    from orechain.access.audit import undo

    with open_store(db) as store:
        try:
            log = undo(store, change_id, _cli_actor(), any_actor=True, note=note)
        except ChangeError as exc:
            raise fail(exc) from exc
        err.print(f"undone as change {log.change_id} ({log.rows} row(s))")
