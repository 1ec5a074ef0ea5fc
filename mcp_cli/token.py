"""Mint a scoped HS256 access token for the MCP server and print only the token.

The signing key comes from the first of: --secret, --secret-file,
$MCP_JWT_SECRET_KEY, or the local development key in .dev/jwt-secret
(made by `make run` / `make token`).

Example:
  mcp-token --sub alice --scopes public:read,confidential:read
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.tokens import token_id
from mcp_cli.claims import add_claim_arguments, mint_from_arguments

# The checkout's key, beside mcp_cli/: the project installs editable (make install),
# so this file is the one in the checkout, wherever the command is run from.
DEV_KEY = Path(__file__).resolve().parent.parent / ".dev" / "jwt-secret"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-token", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_claim_arguments(parser)
    key = parser.add_mutually_exclusive_group()
    key.add_argument("--secret", help="the signing key itself (prefer --secret-file)")
    key.add_argument("--secret-file", type=Path, help="a file holding the signing key")
    return parser


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
    args = build_parser().parse_args(argv)
    try:
        token = mint_from_arguments(signing_key(args), args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    # stdout holds only the token (TOKEN=$(...)); the id to revoke it by goes to stderr.
    print(f"jti: {token_id(token)}", file=sys.stderr)
    return 0
