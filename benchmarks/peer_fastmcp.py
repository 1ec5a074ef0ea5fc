"""The peer: what a user would write with stock FastMCP instead of this project.

The same tool (name, description, body: an async function returning the
public document, already in memory), served statelessly with JSON answers
the way FastMCP documents it: `mcp.run(transport="http", ...)`. No auth, no
rate limit, no metrics; FastMCP's defaults otherwise (its banner, its
logging, uvicorn's access log, its Host/Origin guard for loopback;
benchmarks/run.py switches off only the banner's update check, a request
to PyPI at every start).

`--stock` keeps uvicorn on the h11 parser, which is what `pip install
fastmcp` brings (it depends on plain uvicorn, not uvicorn[standard]). This
venv also holds httptools for the secured server, and uvicorn's default
("auto") picks it up: without `--stock` the peer runs as it would for a user
who also installed uvicorn[standard]. Either way the event loop is asyncio:
`run()` starts the loop itself (anyio.run), so uvicorn's loop setting and
uvloop never come into play.

Never deploy this: the tool is open to anyone who can reach the port.
"""

from __future__ import annotations

import argparse
import sys

from fastmcp import FastMCP

from app.catalog import TOOLS
from app.config import BUNDLED_DOCUMENTS

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def build() -> FastMCP:
    tool = TOOLS[0]
    text = (BUNDLED_DOCUMENTS / tool.document).read_text(encoding="utf-8")
    mcp = FastMCP("peer")

    async def read() -> str:
        return text

    mcp.tool(read, name=tool.name, description=tool.description)
    return mcp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stock", action="store_true", help="h11, as `pip install fastmcp` has")
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK:
        print("error: the peer only binds to loopback", file=sys.stderr)
        return 2
    build().run(
        transport="http",
        host=args.host,
        port=args.port,
        stateless_http=True,
        json_response=True,
        uvicorn_config={"http": "h11"} if args.stock else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
