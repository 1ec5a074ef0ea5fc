"""The rules a setting of settings.py can declare: what is allowed, and the check.

A setting lists its rules in its `Annotated` metadata. Each rule carries
`allowed`, the short text the README's settings table shows, and a check that
raises `Invalid` with the rest of the one-line message (`config.py` puts the
source and the setting's name in front of it). Checks get the whole config too,
so a rule such as "in the region" or "does not overlap the subnet" is declared
on the setting it guards.

Like config.py, this module imports nothing from CDK Terrain.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo


class Invalid(ValueError):
    """A value breaks a rule; `setting` overrides the name put in front of the message."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.setting = setting


@dataclass(frozen=True)
class Rule:
    """One constraint on a setting: `check(value, config)` raises Invalid when broken."""

    allowed: str
    check: Callable[[Any, Any], None]


def rules_of(field: FieldInfo) -> list[Rule]:
    """The rules a setting declares, in order."""
    return [item for item in field.metadata if isinstance(item, Rule)]


def bounds(field: FieldInfo) -> tuple[Any, Any] | None:
    """A number's `ge` and `le`, which pydantic checks (kept in the field's metadata)."""
    low = [item.ge for item in field.metadata if getattr(item, "ge", None) is not None]
    high = [item.le for item in field.metadata if getattr(item, "le", None) is not None]
    return (low[0], high[0]) if low and high else None


def choice(field: FieldInfo) -> str:
    """What a learner picks from, in words: a Literal's values or a number's bounds.

    config.example.toml also shows it next to the setting.
    """
    if get_origin(field.annotation) is Literal:
        words = [str(value) for value in get_args(field.annotation)]
        return f"{', '.join(words[:-1])} or {words[-1]}"
    limits = bounds(field)
    return f"{limits[0]}-{limits[1]}" if limits else ""


def matches(
    pattern: str, problem: str, allowed: str, forbid: Callable[[str], bool] | None = None
) -> Rule:
    """The whole value matches `pattern` (and `forbid` is false); else "'value' <problem>"."""
    compiled = re.compile(pattern)

    def check(value: str, _cfg: Any) -> None:
        if not compiled.fullmatch(value) or (forbid is not None and forbid(value)):
            raise Invalid(f"{value!r} {problem}")

    return Rule(allowed, check)


def positive(hint: str) -> Rule:
    def check(value: int, _cfg: Any) -> None:
        if value <= 0:
            raise Invalid(f"must be {hint}")

    return Rule("> 0", check)


# Names of GCP resources (cluster, repository, network, pools): RFC 1035 labels.
def resource_name(low: int = 1, high: int = 40) -> Rule:
    return matches(
        rf"[a-z](?:[a-z0-9-]{{{max(low - 2, 0)},{high - 2}}}[a-z0-9])?",
        f"must be lowercase letters, digits and hyphens, {low}-{high} long",
        f"a-z, 0-9, '-'; {low}-{high} long; starts with a letter",
        forbid=lambda value: len(value) < low,
    )


SERVICE_ACCOUNT_ID = matches(
    r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
    "is not a service account id (6-30 lowercase, digits, '-')",
    "6-30 of a-z, 0-9, '-'",
)
DNS_LABEL = matches(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?",
    "must be a DNS label (lowercase letters, digits, '-')",
    "DNS label: a-z, 0-9, '-'",
)

# What Google Cloud and GitHub accept as these names and ids, one setting each.
PROJECT_ID = matches(
    r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
    "is not a valid Google Cloud project id (6-30 characters: lowercase letters, "
    "digits and hyphens, starting with a letter, not ending with a hyphen)",
    "6-30 of a-z, 0-9, '-'; no 'google'",
    forbid=lambda value: "google" in value,
)
REGION = matches(
    r"[a-z]+-[a-z]+[0-9]+",
    "is not a Google Cloud region (like us-central1)",
    "a region, like us-central1",
)
OBJECT_PATH = matches(
    r"[A-Za-z0-9._/-]{1,200}",
    "must be a relative object path",
    "a relative object path",
    forbid=lambda value: value.startswith("/"),
)
GITHUB_OWNER = matches(
    # GitHub: 1-39 alphanumerics or single hyphens, not at either end.
    r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}",
    "is not a GitHub user or organization name",
    "a GitHub user or organization",
)
GITHUB_REPOSITORY = matches(
    r"[A-Za-z0-9._-]{1,100}",
    "is not a repository name (the part after owner/; letters, digits, '.', '-', '_')",
    "a repository name",
    forbid=lambda value: value in {".", ".."},
)
BRANCH = matches(
    r"[A-Za-z0-9._/-]{1,200}",
    "is not a branch name (like main)",
    "a branch name, without refs/heads/",
    forbid=lambda value: ".." in value or value.startswith(("/", "refs/")),
)
MACHINE_TYPE = matches(
    r"[a-z0-9]+-[a-z0-9-]+",
    "is not a machine type (like e2-standard-2)",
    "a machine type, like e2-standard-2",
)
SECRET_ID = matches(
    r"[A-Za-z0-9_-]{1,255}",
    "is not a Secret Manager secret id",
    "1-255 of A-Z, a-z, 0-9, '_', '-'",
)
KEY_RING = matches(
    r"[A-Za-z0-9_-]{1,63}",
    "is not a key ring name (1-63 of A-Z, a-z, 0-9, '_', '-')",
    "1-63 of A-Z, a-z, 0-9, '_', '-'",
)


def in_region() -> Rule:
    """A zone of the configured region: `<region>-<letter>`."""

    def check(value: str, cfg: Any) -> None:
        prefix = f"{cfg.region}-"
        if not value.startswith(prefix) or not re.fullmatch(r"[a-z]", value[len(prefix) :]):
            raise Invalid(f"{value!r} is not in region {cfg.region!r} (like {cfg.region}-a)")

    return Rule("a zone of `region`", check)


def bucket_name() -> Rule:
    # https://cloud.google.com/storage/docs/buckets#naming (names without dots).
    def check(value: str, _cfg: Any) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]", value):
            raise Invalid(
                f"{value!r} is not a Cloud Storage bucket name (3-63 characters: lowercase "
                "letters, digits, '-' and '_', starting and ending with a letter or digit)"
            )
        if value.startswith("goog") or "google" in value:
            raise Invalid(f"{value!r} may not start with 'goog' or contain 'google'")

    return Rule("a bucket name without dots", check)


def email_or_empty() -> Rule:
    # Plain addresses (no display names), comma-separated: one Monitoring e-mail
    # channel each.
    pattern = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

    def check(value: str, _cfg: Any) -> None:
        for address in split_addresses(value):
            if not pattern.fullmatch(address):
                raise Invalid(
                    f"{address!r} is not an e-mail address (like oncall@example.com; several "
                    "separated by commas); leave it empty for no notification channel"
                )

    return Rule("addresses separated by commas, or empty", check)


def split_addresses(value: str) -> list[str]:
    return [address.strip() for address in value.split(",") if address.strip()]


def hostname_or_empty() -> Rule:
    # A DNS name of at least two labels, as a certificate and an Ingress rule take it.
    label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    pattern = re.compile(rf"(?:{label}\.)+[a-z]{{2,63}}")

    def check(value: str, _cfg: Any) -> None:
        if value and (len(value) > 253 or not pattern.fullmatch(value)):
            raise Invalid(
                f"{value!r} is not a host name (lowercase, like mcp.example.com, no scheme "
                "or path); leave it empty to leave sign-in out"
            )

    return Rule("a host name, or empty", check)


def labels() -> Rule:
    key_pattern = re.compile(r"[a-z][a-z0-9_-]{0,62}")
    value_pattern = re.compile(r"[a-z0-9_-]{0,63}")

    def check(value: Mapping[str, Any], _cfg: Any) -> None:
        if not value:
            raise Invalid("must hold at least one label (GKE resources are found by them)")
        for key, item in value.items():
            if (
                not key_pattern.fullmatch(key)
                or not isinstance(item, str)
                or not value_pattern.fullmatch(item)
            ):
                raise Invalid(
                    f"entry {key!r} = {item!r} is not a valid label (lowercase letters, "
                    "digits, '_' and '-', key starting with a letter)"
                )

    return Rule("at least one; a-z, 0-9, '_', '-'", check)


def authorized_networks() -> Rule:
    """At least one IPv4 CIDR, none wider than /8: the control plane's allow-list."""

    def check(value: tuple[Any, ...], _cfg: Any) -> None:
        if not value:
            raise Invalid(
                "must list at least one CIDR allowed to reach the control plane (your address/32)"
            )
        for i, net in enumerate(value):
            setting = f"authorized_networks[{i}].cidr"
            try:
                parsed = ipaddress.ip_network(net.cidr, strict=True)
            except ValueError as exc:
                raise Invalid(f"{net.cidr!r} is not a valid CIDR ({exc})", setting) from exc
            if parsed.version != 4:
                raise Invalid(
                    f"{net.cidr!r}: GKE authorized networks take IPv4 CIDRs only", setting
                )
            if parsed.prefixlen == 0:
                raise Invalid(
                    f"{net.cidr!r} would open the control plane to the whole internet", setting
                )
            if parsed.prefixlen < 8:
                raise Invalid(
                    f"{net.cidr!r} is far too wide for an allow-list (use /8 or narrower)", setting
                )
            if not net.name or len(net.name) > 100:
                raise Invalid(
                    "must be a short description (1-100 characters)",
                    f"authorized_networks[{i}].name",
                )

    return Rule("1 or more IPv4 CIDRs, /8 or narrower", check)


def private_range(*disjoint_from: str, prefixlen: int | None = None, why: str = "") -> Rule:
    """A private IPv4 CIDR that overlaps none of the settings named in `disjoint_from`.

    Those settings are declared (and so validated) before this one.
    """
    allowed = "private IPv4 CIDR" + (f", /{prefixlen}" if prefixlen else "")
    if disjoint_from:
        allowed += ", disjoint from " + ", ".join(f"`{name}`" for name in disjoint_from)

    def check(value: str, cfg: Any) -> None:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise Invalid(f"{value!r} is not a valid CIDR ({exc})") from exc
        if not isinstance(net, ipaddress.IPv4Network) or not net.is_private:
            raise Invalid(f"{value!r} must be a private (RFC 1918) IPv4 range")
        if prefixlen is not None and net.prefixlen != prefixlen:
            raise Invalid(f"must be a /{prefixlen} ({why})")
        for name in disjoint_from:
            other = ipaddress.ip_network(getattr(cfg, name))
            if net.overlaps(other):
                raise Invalid(f"{net} overlaps {name} {other}")

    return Rule(allowed, check)


def timestamp_or_empty(after: str | None = None, with_setting: str | None = None) -> Rule:
    """An RFC 3339 time with its offset (like 2026-12-24T00:00:00Z), or empty.

    `after` names a setting this one must be later than; `with_setting` one that
    must be set together with this one (both or neither).
    """

    def parse(value: str) -> datetime | None:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo is not None else None

    def check(value: str, cfg: Any) -> None:
        if value and parse(value) is None:
            raise Invalid(
                f"{value!r} is not an RFC 3339 time with its offset (like 2026-12-24T00:00:00Z)"
            )
        if with_setting is not None and bool(value) != bool(getattr(cfg, with_setting)):
            raise Invalid(f"and {with_setting} must be set together (or both left empty)")
        other = getattr(cfg, after) if after else ""
        if value and other and (start := parse(other)) is not None:
            end = parse(value)
            assert end is not None
            if end <= start:
                raise Invalid(f"{value!r} must be later than {after} {other!r}")

    return Rule("an RFC 3339 time, or empty", check)


def autoscaling_bounds() -> Rule:
    """max_nodes: 0 (off), or at least min_nodes and node_count."""

    def check(value: int, cfg: Any) -> None:
        if value == 0:
            return
        if not cfg.min_nodes <= cfg.node_count <= value:
            raise Invalid(
                f"must be 0 (no autoscaling) or at least node_count ({cfg.node_count}), "
                f"which must be at least min_nodes ({cfg.min_nodes}); got {value}"
            )

    return Rule("0 (off), or node_count-50", check)
