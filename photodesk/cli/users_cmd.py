"""The ``photodesk users`` and ``photodesk apikeys`` commands: server accounts and API keys."""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from typing import Any

from photodesk.cli import twofa_cmd
from photodesk.cli.registry import Command
from photodesk.core import InvalidInput, Library

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int | None:
    """Bytes from ``500M``, ``10G``, ``1.5T`` or a plain number; ``none`` for no quota."""
    if text.strip().lower() in ("none", "unlimited", ""):
        return None
    m = _SIZE_RE.match(text)
    if not m:
        raise InvalidInput(f"not a size: {text!r} (use e.g. 500M, 10G)")
    unit = (m.group(2) or "").lower()[:1]
    return int(float(m.group(1)) * _UNITS[unit])


def add_parser(subparsers: Any) -> None:
    """Add ``users`` and ``apikeys`` to the ``photodesk`` sub-command parsers."""
    p = subparsers.add_parser("users", help="server accounts (for `photodesk serve`)")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = sub.add_parser("add", help="create a user (asks for the password)")
    a.add_argument("email")
    a.add_argument("--admin", action="store_true", help="may manage the server")
    a.add_argument("--name", default="", help="display name")
    a.add_argument("--quota", type=parse_size, default=None, help="storage quota, e.g. 200G")
    a.add_argument("--storage-label", help="folder name for the user's uploads")
    a.add_argument(
        "--owner",
        action="store_true",
        help="make the desktop library's owner this account (its photos stay theirs)",
    )
    a.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    ls = sub.add_parser("list", help="list users")
    ls.add_argument("--json", action="store_true")
    pw = sub.add_parser("passwd", help="change a user's password (ends their sessions)")
    pw.add_argument("email")
    pw.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    q = sub.add_parser("quota", help="set or clear a user's storage quota")
    q.add_argument("email")
    q.add_argument("size", type=parse_size, help="e.g. 200G, or none")
    twofa_cmd.add_parser(sub)

    p = subparsers.add_parser("apikeys", help="API keys for scripts, the Immich CLI and apps")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = sub.add_parser("create", help="create a key; it is printed once, alone on the last line")
    c.add_argument("--user", required=True, metavar="EMAIL")
    c.add_argument("--name", default="", help="what the key is for")
    c.add_argument(
        "--permission",
        action="append",
        metavar="PERM",
        help="grant only this permission (repeatable; default: all)",
    )
    ls = sub.add_parser("list", help="list keys (never the secrets)")
    ls.add_argument("--user", metavar="EMAIL")
    ls.add_argument("--json", action="store_true")
    r = sub.add_parser("revoke", help="delete a key")
    r.add_argument("id", type=int)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InvalidInput("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise InvalidInput("standard input is not a terminal: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the passwords differ")
    return first


def _size(n: int | None) -> str:
    if n is None:
        return "unlimited"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def run_users(lib: Library, args: argparse.Namespace) -> int:
    accounts = lib.accounts
    if args.action == "add" and args.owner:
        uid = accounts.claim_owner(args.email, _password(args), admin=args.admin, name=args.name)
        print(f"the library's owner is now user {uid}: {args.email.strip().lower()}")
        return 0
    if args.action == "add":
        password = _password(args)
        uid = accounts.add_user(
            args.email,
            password,
            admin=args.admin,
            name=args.name,
            quota_bytes=args.quota,
            storage_label=args.storage_label,
        )
        print(f"created user {uid}: {args.email.strip().lower()}{' (admin)' if args.admin else ''}")
        return 0
    if args.action == "list":
        users = accounts.list_users()
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": u.id,
                            "email": u.email,
                            "name": u.name,
                            "is_admin": u.is_admin,
                            "quota_bytes": u.quota_bytes,
                            "usage_bytes": accounts.usage_bytes(u.id),
                            "storage_label": u.storage_label,
                            "can_log_in": u.has_password,
                            "created_at": u.created_at.isoformat(timespec="seconds"),
                        }
                        for u in users
                    ],
                    indent=2,
                )
            )
            return 0
        for u in users:
            flags = ", ".join(
                f
                for f in (
                    "admin" if u.is_admin else "",
                    "" if u.has_password else "no password",
                )
                if f
            )
            used = _size(accounts.usage_bytes(u.id))
            print(
                f"{u.id:>4}  {u.email:<32} {used} of {_size(u.quota_bytes)}"
                + (f"  ({flags})" if flags else "")
            )
        return 0
    if args.action == "passwd":
        account = accounts.by_email(args.email)
        accounts.set_password(account.id, _password(args))
        print(f"password changed for {account.email}; their sessions were ended")
        return 0
    if args.action == "quota":
        account = accounts.by_email(args.email)
        accounts.set_quota(account.id, args.size)
        print(f"quota of {account.email}: {_size(args.size)}")
        return 0
    if args.action == "2fa":
        return twofa_cmd.run(lib, args)
    raise AssertionError(args.action)


def run_apikeys(lib: Library, args: argparse.Namespace) -> int:
    accounts = lib.accounts
    if args.action == "create":
        account = accounts.by_email(args.user)
        perms = tuple(args.permission) if args.permission else ("all",)
        secret = accounts.create_api_key(account.id, args.name, perms)
        print(f"API key for {account.email} ({', '.join(perms)}); it is shown only this once:")
        print(secret)
        return 0
    if args.action == "list":
        user_id = accounts.by_email(args.user).id if args.user else None
        emails = {u.id: u.email for u in accounts.list_users()}
        keys = accounts.list_api_keys(user_id)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": k.id,
                            "user": emails.get(k.user_id),
                            "name": k.name,
                            "prefix": k.prefix,
                            "permissions": list(k.permissions),
                            "created_at": k.created_at.isoformat(timespec="seconds"),
                            "last_used_at": k.last_used_at.isoformat(timespec="seconds")
                            if k.last_used_at
                            else None,
                        }
                        for k in keys
                    ],
                    indent=2,
                )
            )
            return 0
        for k in keys:
            used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never used"
            print(
                f"{k.id:>4}  {k.prefix}…  {emails.get(k.user_id, '?'):<28} "
                f"{k.name or '-':<16} {','.join(k.permissions)}  {used}"
            )
        return 0
    if args.action == "revoke":
        lib.accounts.revoke_api_key(args.id)
        print(f"revoked API key {args.id}")
        return 0
    raise AssertionError(args.action)


def run(lib: Library, args: argparse.Namespace) -> int:
    """Run ``photodesk users ...`` or ``photodesk apikeys ...``; returns the exit status."""
    return run_users(lib, args) if args.command == "users" else run_apikeys(lib, args)


COMMAND = Command(("users", "apikeys"), add_parser, run)
