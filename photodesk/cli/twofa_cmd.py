"""``photodesk users 2fa enable|disable|status EMAIL``: an admin's hand on two-factor sign-in."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from photodesk.core import InvalidInput, Library


def add_parser(users_sub: Any) -> None:
    """Add ``2fa`` under the ``users`` sub-commands."""
    p = users_sub.add_parser("2fa", help="two-factor sign-in (TOTP) of a user")
    p.add_argument(
        "twofa_action",
        choices=("enable", "disable", "status"),
        metavar="ACTION",
        help="enable (shows the secret, asks for a code), disable, or status",
    )
    p.add_argument("email")
    p.add_argument("--code", help="the code from the authenticator app (else it is asked for)")


def run(lib: Library, args: argparse.Namespace) -> int:
    accounts = lib.accounts
    account = accounts.by_email(args.email)
    totp = accounts.totp
    if args.twofa_action == "status":
        st = totp.status(account.id)
        state = f"on, {st.recovery_codes_left} recovery codes left" if st.enabled else "off"
        print(f"two-factor sign-in of {account.email}: {state}")
        return 0
    if args.twofa_action == "disable":
        was_on = totp.disable(account.id)
        print(f"two-factor sign-in of {account.email} is off" + ("" if was_on else " (it was)"))
        return 0
    setup = totp.begin(account.id)
    print(f"Add this to the authenticator app of {account.email}:")
    print(f"  secret: {setup.secret}")
    print(f"  URI:    {setup.uri}")
    code = args.code
    if code is None:
        print("code shown by the app: ", end="", flush=True)
        code = sys.stdin.readline().strip()
    if not code:
        raise InvalidInput("no code given; two-factor sign-in stays off")
    codes = totp.confirm(account.id, code)
    print(f"two-factor sign-in of {account.email} is on. Recovery codes (shown only now, each")
    print("works once; keep them somewhere safe):")
    for c in codes:
        print(f"  {c}")
    return 0
