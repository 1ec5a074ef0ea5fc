#!/usr/bin/env python3
"""Point a Helm values file at a new image: set `image.tag` and `image.digest`.

    scripts/bump_image_tag.py --file helm/mcp-server/values-gke.yaml \\
        --tag 3f2c9e1... --digest sha256:<64 hex>

The pipeline (.github/workflows/image.yml) runs this after it pushed an image,
and commits the result to main, where ArgoCD picks it up. It edits only the
two value lines under the top-level `image:` mapping and leaves every other
byte of the file as it was (comments, order, blank lines), so the commit's diff
is exactly those lines. Running it again with the same values changes nothing
and says so. Standard library only: the CI job needs nothing but Python.

Exit codes: 0 updated or already up to date; 1 missing file or key, or a
layout this tool will not guess at; 2 invalid arguments (tag or digest format).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# An OCI distribution-spec tag.
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# The only digest algorithm registries hand out for images.
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")

TOP_LEVEL_IMAGE = re.compile(r"^image:[ \t]*(?:#.*)?$")
# `<indent><key>:<space><value><space># comment`; value quoted or plain, maybe empty.
VALUE_LINE = re.compile(
    r"""^(?P<indent>[ ]+)(?P<key>[A-Za-z_][\w-]*):(?P<sep>[ \t]*)
        (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#][^#]*?|)
        (?P<comment>[ \t]+\#.*)?$""",
    re.X,
)


class BumpError(Exception):
    """A problem with the values file, reported as one line on stderr."""


@dataclass
class ValueLine:
    index: int
    match: re.Match[str]
    newline: str

    @property
    def value(self) -> str:
        raw = self.match["value"]
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            return raw[1:-1]
        if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
            return raw[1:-1].replace("''", "'")
        return raw.strip()

    def with_value(self, value: str) -> str:
        """The same line with `value`, in the line's own quote style (plain becomes double)."""
        quote = "'" if self.match["value"].startswith("'") else '"'
        m = self.match
        sep = m["sep"] or " "
        comment = m["comment"] or ""
        return f"{m['indent']}{m['key']}:{sep}{quote}{value}{quote}{comment}{self.newline}"


def tag_arg(text: str) -> str:
    if not TAG_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"invalid tag {text!r}: an OCI tag is 1-128 characters of [A-Za-z0-9_.-] "
            "and does not start with '.' or '-'"
        )
    return text


def digest_arg(text: str) -> str:
    if not DIGEST_RE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"invalid digest {text!r}: expected 'sha256:' followed by 64 lowercase hex digits"
        )
    return text


def find_image_keys(lines: list[str], path: Path) -> dict[str, ValueLine]:
    """The `tag:` and `digest:` lines directly under the top-level `image:` mapping."""
    starts = [i for i, line in enumerate(lines) if TOP_LEVEL_IMAGE.match(line.rstrip("\r\n"))]
    if not starts:
        raise BumpError(f"{path}: no top-level `image:` mapping (block style) found")
    if len(starts) > 1:
        raise BumpError(f"{path}: `image:` appears {len(starts)} times at the top level")
    found: dict[str, ValueLine] = {}
    child_indent: str | None = None
    for index in range(starts[0] + 1, len(lines)):
        body = lines[index].rstrip("\r\n")
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = body[: len(body) - len(body.lstrip(" "))]
        if not indent:
            break  # the next top-level key ends the mapping
        if child_indent is None:
            child_indent = indent
        if indent != child_indent:
            continue  # deeper nesting belongs to some other key
        match = VALUE_LINE.match(body)
        if match is None or match["key"] not in {"tag", "digest"}:
            continue
        key = match["key"]
        if key in found:
            raise BumpError(f"{path}: `image.{key}` appears twice")
        newline = lines[index][len(body) :]
        found[key] = ValueLine(index, match, newline)
    return found


def bump(path: Path, tag: str, digest: str) -> tuple[bool, dict[str, tuple[str, str]]]:
    """Set image.tag and image.digest in `path`; return (changed, {key: (old, new)})."""
    if not path.is_file():
        raise BumpError(f"values file not found: {path}")
    text = path.read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    keys = find_image_keys(lines, path)
    wanted = {"tag": tag, "digest": digest}
    for key in wanted:
        if key not in keys:
            raise BumpError(
                f'{path}: `image.{key}` not found (expected a line like `  {key}: ""` '
                "directly under the top-level `image:`)"
            )
    changes: dict[str, tuple[str, str]] = {}
    for key, new in wanted.items():
        line = keys[key]
        changes[key] = (line.value, new)
        if line.value != new:
            lines[line.index] = line.with_value(new)
    updated = "".join(lines)
    if updated == text:
        return False, changes
    write_atomically(path, updated)
    return True, changes


def write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions."""
    mode = path.stat().st_mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Set image.tag and image.digest in a Helm values file, keeping comments and "
            "formatting. Idempotent: a second run with the same values changes nothing."
        ),
    )
    parser.add_argument(
        "--file",
        required=True,
        type=Path,
        help="the values file, e.g. helm/mcp-server/values-gke.yaml",
    )
    parser.add_argument("--tag", required=True, type=tag_arg, help="the image tag (the git SHA)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--digest", type=digest_arg, help="the pushed image's digest, sha256:<64 hex>"
    )
    group.add_argument(
        "--no-digest",
        action="store_true",
        help='set image.digest to "" so the tag alone selects the image',
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    digest = "" if args.no_digest else args.digest
    try:
        changed, changes = bump(args.file, args.tag, digest)
    except (BumpError, OSError, UnicodeDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if changed:
        print(f"updated {args.file}:")
        for key, (old, new) in changes.items():
            if old != new:
                print(f"  image.{key}: {old or '(empty)'} -> {new or '(empty)'}")
    else:
        shown = digest or "(empty)"
        print(f"unchanged: {args.file} already has image.tag={args.tag} image.digest={shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
