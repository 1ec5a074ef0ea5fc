"""Every feature of the chart, and a pairwise set of values combinations over them.

Each feature is a values switch with its options (the --set flags, values
files and --set-file flags of one choice). Rendering the full product would
take hours; every pair of options of any two features is rendered at least
once instead (all-pairs), which is what an interaction between two switches
needs. The set is chosen by a seeded greedy search, so it is the same on
every run, and `uncovered_pairs` proves that nothing was left out.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from tests.chart.rendering import DOCUMENTS, FAKE_KEY, FAKE_PREVIOUS_KEY, JWKS_URL, Combo

SIGNIN = (
    "signin.enabled=true",
    "signin.clientId=123-abc.apps.googleusercontent.com",
    "signin.policy.rules[0].domains[0]=example.com",
    "signin.policy.rules[0].scopes[0]=public:read",
)
# Memorystore's address as terraform output signin_redis_host prints it.
REDIS_HOST = "10.0.0.3"
REDIS = (f"signin.redis.host={REDIS_HOST}",)
# The load balancer's address as terraform output signin_address prints it (TEST-NET-3).
LB_ADDRESS = "203.0.113.9"
HOST = "mcp.example.com"
INGRESS = (
    "signin.ingress.enabled=true",
    f"signin.ingress.host={HOST}",
    f"server.publicUrl=https://{HOST}",
    f"signin.ingress.staticIpAddress={LB_ADDRESS}",
)


@dataclass(frozen=True)
class Option:
    values: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    set_files: tuple[str, ...] = ()


FEATURES: dict[str, dict[str, Option]] = {
    # Where the signing key comes from: a Secret, ESO's fake provider, Secret Manager.
    "base": {
        "default": Option(),
        "dev": Option(("values-dev.yaml",)),
        "dev-fake": Option(
            ("values-dev.yaml",),
            ("signingKey.source=externalSecrets", "externalSecrets.provider=fake"),
            (f"externalSecrets.fake.signingKey={FAKE_KEY}",),
        ),
        "gke": Option(("values-gke.yaml",)),
    },
    "signin": {
        "off": Option(),
        # One replica keeps the OAuth state in memory.
        "memory": Option(sets=(*SIGNIN, "replicaCount=1")),
        "memorystore": Option(sets=(*SIGNIN, *REDIS)),
        # A Redis of one's own by host name, without TLS or AUTH (a local cluster).
        "plain-redis": Option(
            sets=(
                *SIGNIN,
                "signin.redis.host=redis.mcp-prototype.svc",
                "signin.redis.port=6379",
                "signin.redis.tls=false",
                "signin.redis.auth=false",
            )
        ),
        "ingress": Option(sets=(*SIGNIN, *REDIS, *INGRESS)),
        # A TLS Secret of one's own instead of infra's certificate, no Cloud Armor.
        "ingress-tls-secret": Option(
            sets=(
                *SIGNIN,
                *REDIS,
                *INGRESS,
                "signin.ingress.preSharedCertificate=",
                "signin.ingress.tlsSecretName=mcp-tls",
                "signin.ingress.securityPolicy=",
            )
        ),
    },
    "replicas": {"two": Option(), "one": Option(sets=("replicaCount=1",))},
    "hpa": {"off": Option(), "on": Option(sets=("autoscaling.enabled=true",))},
    "pdb": {"on": Option(), "off": Option(sets=("podDisruptionBudget.enabled=false",))},
    "network-policy": {
        "on": Option(),
        "off": Option(sets=("networkPolicy.enabled=false",)),
    },
    "pod-monitoring": {
        "values": Option(),
        "on": Option(sets=("metrics.podMonitoring.enabled=true",)),
        "off": Option(sets=("metrics.podMonitoring.enabled=false",)),
    },
    "service-account": {
        "created": Option(),
        "existing": Option(sets=("serviceAccount.create=false", "serviceAccount.name=mcp-server")),
    },
    "previous-key": {
        "off": Option(),
        "on": Option(
            sets=(
                "signingKey.previousKey=true",
                "externalSecrets.gcpSecretManager.previousVersion=3",
            ),
            set_files=(f"externalSecrets.fake.previousSigningKey={FAKE_PREVIOUS_KEY}",),
        ),
    },
    "documents": {
        "image": Option(),
        "own": Option(
            set_files=(
                f"documents.public={DOCUMENTS[0]}",
                f"documents.confidential={DOCUMENTS[1]}",
            )
        ),
    },
    "revoked": {"none": Option(), "one": Option(sets=("revokedTokenIds[0]=0b9d7e3c1a",))},
    "jwks": {"off": Option(), "on": Option(sets=(f"server.jwksUrl={JWKS_URL}",))},
}

Choice = tuple[str, ...]  # one option name per feature, in FEATURES' order
NAMES = tuple(FEATURES)


def valid(choice: Choice) -> bool:
    """The chart refuses sign-in state in memory with more than one replica."""
    picked = dict(zip(NAMES, choice, strict=True))
    return not (picked["signin"] == "memory" and picked["hpa"] == "on")


def pairs_of(choice: Choice) -> set[tuple[int, str, int, str]]:
    return {(i, choice[i], j, choice[j]) for i, j in itertools.combinations(range(len(choice)), 2)}


def _all_valid() -> Iterator[Choice]:
    options = [tuple(FEATURES[name]) for name in NAMES]
    return (c for c in itertools.product(*options) if valid(c))


def coverable_pairs() -> set[tuple[int, str, int, str]]:
    found: set[tuple[int, str, int, str]] = set()
    for choice in _all_valid():
        found |= pairs_of(choice)
    return found


def pairwise(seed: int = 23, candidates: int = 300) -> list[Choice]:
    """A small list of valid choices covering every pair that any valid choice covers."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible test plan, not a secret)
    todo = coverable_pairs()
    chosen: list[Choice] = []
    options = [tuple(FEATURES[name]) for name in NAMES]
    while todo:
        # Start from an uncovered pair so every round makes progress.
        i, a, j, b = min(todo)
        best: Choice | None = None
        best_gain = -1
        for _ in range(candidates):
            picks = [rng.choice(o) for o in options]
            picks[i], picks[j] = a, b
            choice = tuple(picks)
            if not valid(choice):
                continue
            gain = len(pairs_of(choice) & todo)
            if gain > best_gain:
                best, best_gain = choice, gain
        assert best is not None, f"no valid combination holds {(NAMES[i], a, NAMES[j], b)}"
        chosen.append(best)
        todo -= pairs_of(best)
    return chosen


def to_combo(choice: Choice) -> Combo:
    options = [FEATURES[name][option] for name, option in zip(NAMES, choice, strict=True)]
    name = "pairwise-" + "-".join(choice)
    return Combo(
        name,
        tuple(v for o in options for v in o.values),
        tuple(s for o in options for s in o.sets),
        tuple(f for o in options for f in o.set_files),
    )


def picked(choice: Choice) -> dict[str, str]:
    return dict(zip(NAMES, choice, strict=True))
