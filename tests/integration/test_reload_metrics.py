"""The reload metrics of a real server process while its key and deny-list files change.

The files change the way kubelet changes a mounted Secret or ConfigMap
(KubeletVolume); /metrics is scraped as GMP scrapes it, with no request to
/mcp in between: a scrape alone brings a pod's fingerprints up to date.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.key_files import fingerprint
from app.reload_metrics import denylist_fingerprint
from tests.integration.kubelet import KEY_A, KEY_B, KubeletVolume, wait_for
from tests.server_process import ServerProcess

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: ServerProcess) -> Samples:
    text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def keys_served(samples: Samples) -> dict[str, str]:
    """slot -> fingerprint, from mcp_signing_key_info."""
    return {
        dict(labels)["slot"]: dict(labels)["fingerprint"]
        for (name, labels), value in samples.items()
        if name == "mcp_signing_key_info" and value == 1
    }


def denylist_served(samples: Samples) -> set[str]:
    return {
        dict(labels)["fingerprint"]
        for (name, labels), value in samples.items()
        if name == "mcp_denylist_info" and value == 1
    }


def per_setting(samples: Samples, metric: str) -> dict[str, float]:
    return {
        dict(labels)["setting"]: value
        for (name, labels), value in samples.items()
        if name == metric
    }


def test_fingerprints_reload_times_and_refusals_follow_the_files(
    mounted_server: tuple[ServerProcess, KubeletVolume, KubeletVolume],
) -> None:
    server, keys, revoked = mounted_server
    start = scrape(server)
    assert keys_served(start) == {"current": fingerprint(KEY_A.encode())}
    assert denylist_served(start) == {denylist_fingerprint([])}
    refused = per_setting(start, "mcp_reload_refused_total")
    # Every watched file has its counter from the start (at 0), so the first refusal
    # is an increase PromQL can see.
    assert refused == {
        "MCP_JWT_SECRET_FILE": 0,
        "MCP_JWT_PREVIOUS_SECRET_FILE": 0,
        "MCP_JWT_DENYLIST_FILE": 0,
    }
    loaded_at = per_setting(start, "mcp_reload_success_timestamp_seconds")
    assert set(loaded_at) == set(refused)
    # No `*_created` series: nothing reads them.
    assert not [name for name, _ in start if name.endswith("_created")]

    # The rotation: B becomes current, A stays as the previous key.
    keys.update({"current": KEY_B, "previous": KEY_A})
    rotated = {"current": fingerprint(KEY_B.encode()), "previous": fingerprint(KEY_A.encode())}
    wait_for(lambda: keys_served(scrape(server)) == rotated)
    after = per_setting(scrape(server), "mcp_reload_success_timestamp_seconds")
    assert after["MCP_JWT_SECRET_FILE"] > loaded_at["MCP_JWT_SECRET_FILE"]

    # A bad key is refused and counted; the pod keeps serving B.
    keys.update({"current": "too-short", "previous": KEY_A})
    wait_for(
        lambda: per_setting(scrape(server), "mcp_reload_refused_total")["MCP_JWT_SECRET_FILE"] == 1
    )
    assert keys_served(scrape(server)) == rotated

    # A revocation changes the deny-list's fingerprint.
    revoked.update({"jti": "token-id-1\n"})
    wait_for(lambda: denylist_served(scrape(server)) == {denylist_fingerprint(["token-id-1"])})
    final = scrape(server)
    assert per_setting(final, "mcp_reload_refused_total")["MCP_JWT_DENYLIST_FILE"] == 0
    for secret in (KEY_A, KEY_B):
        assert secret not in httpx.get(f"{server.base_url}/metrics", timeout=10).text
