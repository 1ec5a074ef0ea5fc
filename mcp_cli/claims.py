"""The claim options both token CLIs take (mcp-token, and mcp-key's `token` command)."""

from __future__ import annotations

import argparse
import os

from app.tokens import DEFAULT_AUDIENCE, DEFAULT_ISSUER, MAX_EXPIRES_IN, mint_token


def add_claim_arguments(parser: argparse.ArgumentParser) -> None:
    """The claim options every token CLI takes, with the server's defaults."""
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


def mint_from_arguments(secret: str | bytes, args: argparse.Namespace) -> str:
    """mint_token with the options of add_claim_arguments; ValueError on a bad one."""
    return mint_token(
        secret,
        sub=args.sub,
        scopes=[s.strip() for s in args.scopes.split(",") if s.strip()],
        expires_in=args.expires_in,
        issuer=args.issuer,
        audience=args.audience,
    )
