#!/usr/bin/env python3
"""Mint a scoped HS256 access token for the MCP server and print only the token.

The signing key comes from the first of: --secret, --secret-file,
$MCP_JWT_SECRET_KEY, or the local development key in .dev/jwt-secret
(made by `make run` / `make token`).

Example:
  scripts/generate_token.py --sub alice --scopes public:read,confidential:read
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MAX_EXPIRES_IN, mint_token

DEV_KEY = Path(__file__).resolve().parent.parent / ".dev" / "jwt-secret"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sub", required=True, help="the token's subject (who it is for)")
    parser.add_argument(
        "--scopes",
        default="",
        help="comma-separated scopes, e.g. public:read,confidential:read (default: none)",
    )
    parser.add_argument(
        "--expires-in",
        type=int,
        default=3600,
        metavar="SECONDS",
        help=f"lifetime in seconds, 1 to {MAX_EXPIRES_IN} (default: 3600)",
    )
    key = parser.add_mutually_exclusive_group()
    key.add_argument("--secret", help="the signing key itself (prefer --secret-file)")
    key.add_argument("--secret-file", type=Path, help="a file holding the signing key")
    parser.add_argument(
        "--issuer",
        default=os.environ.get("MCP_JWT_ISSUER", DEFAULT_ISSUER),
        help="iss claim (default: $MCP_JWT_ISSUER or %(default)s)",
    )
    parser.add_argument(
        "--audience",
        default=os.environ.get("MCP_JWT_AUDIENCE", DEFAULT_AUDIENCE),
        help="aud claim (default: $MCP_JWT_AUDIENCE or %(default)s)",
    )
    return parser.parse_args(argv)


def signing_key(args: argparse.Namespace) -> str | bytes:
    if args.secret:
        return str(args.secret)
    path: Path | None = args.secret_file
    if path is None:
        from_env = os.environ.get("MCP_JWT_SECRET_KEY")
        if from_env:
            return from_env
        path = DEV_KEY
        if not path.exists():
            raise SystemExit(
                "error: no signing key: pass --secret-file, set MCP_JWT_SECRET_KEY, "
                "or run `make token` once to create the development key"
            )
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        raise SystemExit(f"error: cannot read the key file {path}: {exc.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    try:
        token = mint_token(
            signing_key(args),
            sub=args.sub,
            scopes=scopes,
            expires_in=args.expires_in,
            issuer=args.issuer,
            audience=args.audience,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
