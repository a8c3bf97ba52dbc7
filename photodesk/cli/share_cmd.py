"""The ``photodesk share`` command: public links to albums, and albums shared with users."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from photodesk.cli.registry import Command
from photodesk.core import InvalidInput, Library, NotFound, ShareLink, parse_expiry


def add_parser(subparsers: Any) -> None:
    """Add ``share`` to the ``photodesk`` sub-command parsers."""
    p = subparsers.add_parser("share", help="public links and albums shared with other users")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = sub.add_parser(
        "create", help="make a public link; its URL is printed alone on the last line"
    )
    c.add_argument("album", nargs="?", help="album name or id (or use --assets)")
    c.add_argument("--assets", metavar="IDS", help="a selection instead of an album: 1,2,3")
    c.add_argument("--user", metavar="EMAIL", help="whose album (default: the library's owner)")
    c.add_argument(
        "--password-stdin", action="store_true", help="protect with a password read from stdin"
    )
    c.add_argument("--password", action="store_true", help="ask for a password at a prompt")
    c.add_argument("--expires", metavar="WHEN", help="e.g. 7d, 12h, 2w or 2026-12-31")
    c.add_argument("--allow-download", action="store_true", help="originals and a zip")
    c.add_argument("--allow-upload", action="store_true", help="visitors may add photos")
    c.add_argument(
        "--no-metadata", action="store_true", help="serve no EXIF/GPS, show no place or camera"
    )
    c.add_argument("--slug", help="a readable address: /s/SLUG")
    c.add_argument("--title", default="", help="the gallery's title (default: the album name)")
    c.add_argument("--config", metavar="FILE", help="server TOML file (for its public URL)")
    ls = sub.add_parser("list", help="list public links")
    ls.add_argument("--user", metavar="EMAIL", help="only this user's links")
    ls.add_argument("--revoked", action="store_true", help="include revoked links")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--config", metavar="FILE", help="server TOML file (for its public URL)")
    r = sub.add_parser("revoke", help="turn a link off (by id, key or slug)")
    r.add_argument("link", metavar="ID|KEY")
    a = sub.add_parser("album", help="share an album with another user (or stop sharing it)")
    a.add_argument("album", help="album name or id")
    a.add_argument("--with", dest="with_user", required=True, metavar="EMAIL")
    a.add_argument("--role", choices=["viewer", "editor"], default="viewer")
    a.add_argument("--revoke", action="store_true", help="take the user's access away")
    a.add_argument("--user", metavar="EMAIL", help="whose album (default: the library's owner)")


def server_url(config_file: str | None) -> str:
    """The configured public URL, else http://127.0.0.1:PORT (settings as ``serve`` reads them)."""
    from photodesk.sync.config import load_config

    config = load_config(config_file)
    if config.public_url:
        return config.public_url.rstrip("/")
    return f"http://127.0.0.1:{config.port}"


def _owner(lib: Library, email: str | None) -> int:
    return lib.accounts.by_email(email).id if email else int(lib.owner_id)


def _album_id(lib: Library, owner_id: int, name_or_id: str) -> int:
    albums = lib.for_user(owner_id).albums.list()
    for album in albums:
        if album.name == name_or_id:
            return int(album.id)
    if name_or_id.isdigit():
        for album in albums:
            if album.id == int(name_or_id):
                return int(album.id)
    raise NotFound(f"no album {name_or_id!r}")


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("no password on standard input")
        return password
    if args.password:
        first = getpass.getpass("Link password: ")
        if getpass.getpass("Again: ") != first:
            raise InvalidInput("the passwords differ")
        return first
    return None


def _ids(text: str) -> list[int]:
    try:
        ids = [int(t) for t in text.replace(" ", "").split(",") if t]
    except ValueError:
        raise InvalidInput(f"--assets takes ids like 1,2,3, not {text!r}") from None
    if not ids:
        raise InvalidInput("--assets needs at least one id")
    return ids


def _describe(link: ShareLink) -> str:
    what = f"album {link.album_name!r}" if link.album_id is not None else "a selection"
    flags = [
        "password" if link.has_password else "",
        "download" if link.allow_download else "",
        "upload" if link.allow_upload else "",
        "" if link.show_metadata else "no metadata",
        f"expires {link.expires_at:%Y-%m-%d %H:%M}" if link.expires_at else "",
        "revoked" if link.revoked_at else ("expired" if not link.active() else ""),
    ]
    return f"{what}" + (f" ({', '.join(f for f in flags if f)})" if any(flags) else "")


def _link_dict(link: ShareLink, base: str, email: str | None) -> dict[str, Any]:
    return {
        "id": link.id,
        "owner": email,
        "url": f"{base}/share/{link.key}",
        "slug_url": f"{base}/s/{link.slug}" if link.slug else None,
        "album": link.album_name,
        "title": link.title,
        "has_password": link.has_password,
        "expires_at": link.expires_at.isoformat(timespec="seconds") if link.expires_at else None,
        "allow_download": link.allow_download,
        "allow_upload": link.allow_upload,
        "show_metadata": link.show_metadata,
        "active": link.active(),
        "revoked_at": link.revoked_at.isoformat(timespec="seconds") if link.revoked_at else None,
    }


def run(lib: Library, args: argparse.Namespace) -> int:
    """Run ``photodesk share ...``; returns the exit status."""
    shares = lib.shares
    if args.action == "create":
        owner = _owner(lib, args.user)
        if (args.album is None) == (args.assets is None):
            raise InvalidInput("give an ALBUM or --assets IDS (one of them)")
        expires = parse_expiry(args.expires)
        base = server_url(args.config)  # a bad config fails before the link exists
        password = _read_password(args)
        link = shares.create_link(
            owner,
            album_id=_album_id(lib, owner, args.album) if args.album is not None else None,
            asset_ids=_ids(args.assets) if args.assets is not None else None,
            password=password,
            expires_at=expires,
            slug=args.slug,
            title=args.title,
            allow_download=args.allow_download,
            allow_upload=args.allow_upload,
            show_metadata=not args.no_metadata,
        )
        print(f"link {link.id} to {_describe(link)}")
        if link.slug:
            print(f"also at {base}/s/{link.slug}")
        print(f"{base}/share/{link.key}")
        return 0
    if args.action == "list":
        only = lib.accounts.by_email(args.user).id if args.user else None
        emails = {u.id: u.email for u in lib.accounts.list_users()}
        links = shares.list_links(only, revoked=args.revoked)
        base = server_url(args.config)
        if args.json:
            rows = [_link_dict(k, base, emails.get(k.owner_id)) for k in links]
            print(json.dumps(rows, indent=2))
            return 0
        for k in links:
            where = f"{base}/s/{k.slug}" if k.slug else f"{base}/share/{k.key}"
            print(f"{k.id:>4}  {emails.get(k.owner_id, '?'):<24} {_describe(k)}  {where}")
        return 0
    if args.action == "revoke":
        link = shares.revoke_link(args.link)
        print(f"revoked link {link.id} to {_describe(link)}")
        return 0
    if args.action == "album":
        owner = _owner(lib, args.user)
        album_id = _album_id(lib, owner, args.album)
        other = lib.accounts.by_email(args.with_user)
        if args.revoke:
            shares.unshare_album(owner, album_id, other.id)
            print(f"album {args.album!r} is no longer shared with {other.email}")
            return 0
        grant = shares.share_album(owner, album_id, other.id, args.role)
        print(f"album {grant.album_name!r} shared with {grant.email} as {grant.role}")
        return 0
    raise AssertionError(args.action)


COMMAND = Command(("share",), add_parser, run)
