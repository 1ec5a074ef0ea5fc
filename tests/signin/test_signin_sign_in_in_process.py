"""A whole sign-in driven in this process: registration, consent, the provider, tokens, refresh.

The server is the ASGI app `make run` serves in sign-in mode, run in this
process (so `make mutate` sees app/signin.py at work); the provider is the real
oidc-provider-mock process, which the server reaches over loopback for its
configuration, keys and token endpoint as it would in production. The person's
browser (tests/signin/flow.py) reaches the server through the in-process
transport and the provider over the network. What is checked is what the
person, their MCP client and the provider see.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import logging
import re
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import httpx2
import jwt
import pytest
from limits.aio.storage.redis.redispy import RedispyBridge
from starlette.types import ASGIApp

import app.key_files
import app.shared_limits
from app.challenges import describe_refusal
from app.key_files import CHECK_SECONDS
from app.shared_limits import SharedStore, shared_store
from tests.app.conftest import Clock
from tests.app.test_http_app import ACCEPT, rpc
from tests.redis_server import RedisServer, running
from tests.signin.conftest import CLIENT_ID
from tests.signin.flow import CLIENT_REDIRECT, TLS, Browser
from tests.signin.test_signin_in_process import CLIENT_ADDRESS, MCP, served_app

# The provider's own scopes: who the person is, nothing of theirs.
IDENTITY_SCOPES = {"openid", "email", "profile"}


class Routed(httpx.AsyncBaseTransport):
    """Requests for the server's address go to the app in this process; the rest, the network."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self._app = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        self._network = httpx.AsyncHTTPTransport(verify=TLS)
        self._server = urlsplit(base_url).netloc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        here = request.url.netloc.decode() == self._server
        return await (self._app if here else self._network).handle_async_request(request)

    async def aclose(self) -> None:
        await self._network.aclose()


@dataclass(frozen=True)
class Refused:
    """A sign-in the server refused: what the client's redirect URI got, what the person read."""

    told: dict[str, list[str]]  # the query of the redirect back to the client
    state: str  # the state the client sent, which the answer must carry back
    page: str | None  # the server's refusal page, when the person was shown one

    def read(self) -> str:
        """The refusal page's text, as the person reads it."""
        assert self.page is not None, "the person was shown no refusal page"
        return " ".join(text for text, _ in PageText(self.page).pieces)


class SignIn:
    """An MCP client of the server in this process, signing a person in (PKCE, public client)."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.base = base_url
        self.connect: Callable[[], httpx.AsyncClient] = lambda: httpx.AsyncClient(
            transport=Routed(app, base_url), base_url=base_url, timeout=15
        )

    async def register(self) -> str:
        metadata = {
            "redirect_uris": [CLIENT_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "client_name": "in-process test",
        }
        async with self.connect() as http:
            answer = await http.post("/register", json=metadata)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["client_id"])

    def authorize_params(self, client_id: str, scope: str | None) -> tuple[dict[str, str], str]:
        """The client's /authorize query (PKCE, S256), and the verifier it keeps for /token."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CLIENT_REDIRECT,
            "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "state": secrets.token_urlsafe(8),
            "resource": self.base + MCP,
            **({"scope": scope} if scope else {}),
        }
        return params, verifier

    async def sign_in(
        self, person: str, scope: str | None = None, client_id: str | None = None
    ) -> tuple[dict[str, Any], Browser]:
        """`person` signs in; the token endpoint's answer, and the browser that went through it."""
        client_id = client_id or await self.register()
        params, verifier = self.authorize_params(client_id, scope)
        browser = Browser(person, connect=self.connect)
        result = await browser.authorize(f"{self.base}/authorize?{urlencode(params)}")
        assert result.state == params["state"]
        exchange = {
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": CLIENT_REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        }
        async with self.connect() as http:
            answer = await http.post("/token", data=exchange)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()), browser

    async def refused(self, person: str, scope: str | None = None) -> Refused:
        """`person` goes through the sign-in, at whose end the server sends them back refused."""
        params, _ = self.authorize_params(await self.register(), scope)
        browser = Browser(person, connect=self.connect)
        back = await browser.back_to_client(f"{self.base}/authorize?{urlencode(params)}")
        return Refused(parse_qs(urlsplit(back).query), params["state"], browser.refusal)

    async def refresh(
        self, tokens: dict[str, Any], client_id: str, scope: str | None = None
    ) -> httpx.Response:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client_id,
            **({"scope": scope} if scope else {}),
        }
        async with self.connect() as http:
            return await http.post("/token", data=form)

    async def call(self, access_token: str, tool: str) -> httpx.Response:
        headers = {**ACCEPT, "Authorization": f"Bearer {access_token}"}
        message = rpc("tools/call", {"name": tool, "arguments": {}})
        async with self.connect() as http:
            return await http.post(MCP, json=message, headers=headers)


def client_of(tokens: dict[str, Any]) -> str:
    return str(jwt.decode(tokens["access_token"], options={"verify_signature": False})["client_id"])


def upstream_authorize(browser: Browser, provider_base: str) -> dict[str, list[str]]:
    """The query of the request the browser made to the provider's authorize endpoint."""
    [url] = [u for u in browser.visited if u.startswith(provider_base) and "/authorize" in u]
    return parse_qs(urlsplit(url).query)


async def test_a_person_signs_in_and_the_policy_decides_the_tokens_scopes(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str], oidc_provider: str
) -> None:
    async with served_app(monkeypatch, signin_env) as (app, base, _):
        client = SignIn(app, base)
        async with client.connect() as http:
            before = decisions((await http.get("/metrics")).text, "allowed", "signin_policy")
            tokens, browser = await client.sign_in("alice")
            after = decisions((await http.get("/metrics")).text, "allowed", "signin_policy")
        # The policy's decision is counted once, as allowed.
        assert after - before == 1
        # The provider was asked, as this server's client, for who the person is only.
        asked = upstream_authorize(browser, oidc_provider)
        assert asked["client_id"] == [CLIENT_ID]
        assert set(asked["scope"][0].split()) == IDENTITY_SCOPES
        assert asked["redirect_uri"][0].startswith(base + "/")
        # Google's extras are for Google's host only (the next test has them).
        assert "access_type" not in asked
        assert "prompt" not in asked
        # Alice asked for nothing in particular: she gets all the policy grants her.
        assert set(tokens["scope"].split()) == {"public:read", "confidential:read"}
        for tool in ("get_public_info", "get_confidential_info"):
            assert (await client.call(tokens["access_token"], tool)).status_code == 200
        # A refresh asks the policy again and issues a token that works too.
        refreshed = await client.refresh(tokens, client_of(tokens))
        assert refreshed.status_code == 200, refreshed.text
        again = refreshed.json()["access_token"]
        assert again != tokens["access_token"]
        assert (await client.call(again, "get_confidential_info")).status_code == 200
        # A refresh may ask for less than was granted (RFC 6749 6): it gets only that.
        narrowed = await client.refresh(refreshed.json(), client_of(tokens), "public:read")
        assert narrowed.status_code == 200, narrowed.text
        assert narrowed.json()["scope"] == "public:read"
        fewer = narrowed.json()["access_token"]
        assert (await client.call(fewer, "get_public_info")).status_code == 200
        assert (await client.call(fewer, "get_confidential_info")).status_code == 403


async def test_a_scope_the_policy_never_grants_is_refused_saying_so(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with served_app(monkeypatch, signin_env) as (app, base, _):
        client = SignIn(app, base)
        # Bob (partner.example) asks for both: the policy grants him public:read only.
        bob, _ = await client.sign_in("bob", "public:read confidential:read")
        assert bob["scope"].split() == ["public:read"]
        # So does the token itself: the scopes it is signed with are the granted ones.
        signed = jwt.decode(bob["access_token"], options={"verify_signature": False})["scope"]
        assert signed.split() == ["public:read"]
        assert (await client.call(bob["access_token"], "get_public_info")).status_code == 200
        refused = await client.call(bob["access_token"], "get_confidential_info")
        # Alice asks for less than the policy grants her: asking again would help her.
        alice, _ = await client.sign_in("alice", "public:read")
        narrower = await client.call(alice["access_token"], "get_confidential_info")
    assert refused.status_code == 403
    said = refused.headers["www-authenticate"]
    # Named by the provider's stable id (issuer and subject), never by the email address.
    assert "does not grant the scope confidential:read to http" in said
    assert "|bob;" in said
    assert "signing in again will not change that" in said
    assert narrower.status_code == 403
    assert "the call needs the scope confidential:read" in narrower.headers["www-authenticate"]


async def test_a_registered_client_expires_unless_someone_signs_in_with_it(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    env = {"MCP_OAUTH_UNUSED_CLIENT_TTL_SECONDS": "600"}
    async with served_app(monkeypatch, signin_env, **env) as (app, base, provider):
        client = SignIn(app, base)

        async def ttl(client_id: str) -> float | None:
            stored, seconds = await provider._client_storage.ttl(
                key=client_id, collection="mcp-oauth-proxy-clients"
            )
            assert stored is not None, "the registered client is not stored"
            return seconds

        unused = await client.register()
        used = await client.register()
        await client.sign_in("alice", client_id=used)
        unused_ttl, used_ttl = await ttl(unused), await ttl(used)
    assert unused_ttl is not None
    assert 0 < unused_ttl <= 600
    assert used_ttl is None


async def test_groups_in_the_identity_count_for_what_the_policy_would_grant(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str], tmp_path: Path
) -> None:
    # Dave's domain brings public:read, his group confidential:read.
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n"
        "  - domains: [elsewhere.example]\n    scopes: [public:read]\n"
        "  - groups: [auditors]\n    scopes: [confidential:read]\n"
    )
    env = {"MCP_SCOPE_POLICY_FILE": str(policy)}
    async with served_app(monkeypatch, signin_env, **env) as (app, base, _):
        client = SignIn(app, base)
        dave, _ = await client.sign_in("dave", "public:read")
        refused = await client.call(dave["access_token"], "get_confidential_info")
        # The refreshed token carries the same person, groups included.
        refreshed = await client.refresh(dave, client_of(dave))
        assert refreshed.status_code == 200, refreshed.text
        again = await client.call(refreshed.json()["access_token"], "get_confidential_info")
    # He asked for less than his group brings him: signing in again for it would help.
    for answer in (refused, again):
        assert answer.status_code == 403
        assert "the call needs the scope confidential:read" in answer.headers["www-authenticate"]


async def test_replicas_share_sign_ins_in_redis_and_an_outage_answers_503(
    monkeypatch: pytest.MonkeyPatch,
    signin_env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def two_replicas_then_an_outage(redis: RedisServer) -> list[int]:
        env = {"MCP_OAUTH_STORAGE_URL": redis.url}
        async with (
            served_app(monkeypatch, signin_env, **env) as (app_a, base, _),
            served_app(monkeypatch, signin_env, **env) as (app_b, _, _),
        ):
            replica_a, replica_b = SignIn(app_a, base), SignIn(app_b, base)
            checked, _ = await replica_a.sign_in("alice")
            unchecked, _ = await replica_a.sign_in("bob")
            # Signed in through A, used through B: the state is Redis's, not A's memory.
            shared = await replica_b.call(checked["access_token"], "get_public_info")
            redis.stop()
            # B has checked Alice's token already: it keeps working until it expires.
            kept = await replica_b.call(checked["access_token"], "get_public_info")
            # Bob's it has not seen: it cannot be checked now, and the client is told so.
            unseen = await replica_b.call(unchecked["access_token"], "get_public_info")
        return [shared.status_code, kept.status_code, unseen.status_code]

    with running(tmp_path, durable=False) as redis, caplog.at_level(logging.INFO, "app.signin"):
        statuses = await two_replicas_then_an_outage(redis)
    # redis-py drops the connections the outage broke without closing them: let them
    # go here, where that is expected, not as a ResourceWarning in a later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    assert statuses == [200, 200, 503]
    # The log says why the token could not be checked: the store, not the token.
    reasons = {getattr(r, "reason", None) for r in caplog.records if r.name == "app.signin"}
    assert "signin_state_unavailable" in reasons


async def test_a_token_whose_upstream_sign_in_is_gone_is_refused_naming_that(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with served_app(monkeypatch, signin_env) as (app, base, provider):
        client = SignIn(app, base)
        tokens, _ = await client.sign_in("alice")
        # The proxy still knows the token's id, but what it kept of the provider's
        # sign-in is gone (as when the provider's tokens lapse): the provider says no.
        jti = jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"]
        mapping = await provider._jti_mapping_store.get(key=jti)
        assert mapping is not None
        await provider._upstream_token_store.delete(key=mapping.upstream_token_id)
        answer = await client.call(tokens["access_token"], "get_public_info")
    assert answer.status_code == 401
    said = answer.json()["error"]["data"]["error_description"]
    assert said == describe_refusal("signin_upstream_refused", None, signin=True)
    assert said != describe_refusal("signin_unknown", None, signin=True)


async def test_googles_provider_is_asked_for_offline_access_and_consent(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str], oidc_provider: str
) -> None:
    # Google cannot be reached from here: its configuration URL is answered with the
    # test provider's configuration (a mock of the network, the only one), so the
    # sign-in runs against the test provider while the server believes it is Google.
    # FastMCP caches a provider's configuration by URL for the life of the process
    # (mutmut runs many sessions in one): this provider's own URL, never a stale one.
    google = f"https://accounts.google.com/.well-known/openid-configuration?for={oidc_provider}"
    real_get = httpx2.get

    def get(url: str, **kwargs: Any) -> httpx2.Response:
        return real_get(signin_env["MCP_OIDC_CONFIG_URL"] if url == google else url, **kwargs)

    monkeypatch.setattr(httpx2, "get", get)
    async with served_app(monkeypatch, signin_env, MCP_OIDC_CONFIG_URL=google) as (app, base, _):
        client = SignIn(app, base)
        tokens, browser = await client.sign_in("alice", "public:read")
    asked = upstream_authorize(browser, oidc_provider)
    # Without both Google issues no refresh token, and the sign-in lapses with its hour.
    assert asked["access_type"] == ["offline"]
    assert asked["prompt"] == ["consent"]
    assert set(asked["scope"][0].split()) == IDENTITY_SCOPES
    assert tokens["scope"] == "public:read"


def decisions(metrics: str, outcome: str, reason: str) -> float:
    """The count of one outcome and reason on the server's /metrics page (0 before any)."""
    labels = f'outcome="{outcome}",reason="{reason}"'
    found = re.search(rf"^mcp_auth_decisions_total\{{{labels}\}} (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def valid_sign_ins(metrics: str) -> float:
    return decisions(metrics, "authenticated", "valid_token")


async def test_an_operator_revokes_by_the_ids_the_sign_in_log_names(
    monkeypatch: pytest.MonkeyPatch,
    signin_env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    denylist = tmp_path / "denylist"
    denylist.write_text("")
    # The clock of app.key_files is the test's: no sleeping through the once-a-second look.
    clock = Clock()
    monkeypatch.setattr(app.key_files, "time", clock)
    env = {"MCP_JWT_DENYLIST_FILE": str(denylist)}
    async with served_app(monkeypatch, signin_env, **env) as (asgi, base, _):
        client = SignIn(asgi, base)
        with caplog.at_level(logging.INFO, logger="app.signin"):
            alice, _ = await client.sign_in("alice")
            bob, _ = await client.sign_in("bob")
        said, counted = [], []
        for tokens in (alice, bob):
            async with client.connect() as http:
                before = valid_sign_ins((await http.get("/metrics")).text)
                said.append(
                    (await client.call(tokens["access_token"], "get_public_info")).status_code
                )
                counted.append(valid_sign_ins((await http.get("/metrics")).text) - before)
        # Both tokens were checked and work: now the operator revokes Alice's tokens by
        # their ids and every token of Bob's by his subject, as the log names them.
        decided = [vars(r) for r in caplog.records if r.getMessage() == "sign-in scopes granted"]
        issued = [r for r in caplog.records if r.getMessage() == "sign-in token issued"]
        [for_alice, for_bob] = [vars(r) for r in issued]
        denylist.write_text(
            f"{for_alice['jti']}\n{for_alice['refresh_jti']}\nsub:{for_bob['subject']}\n"
        )
        clock.now += CHECK_SECONDS
        revoked_alice = await client.call(alice["access_token"], "get_public_info")
        revoked_bob = await client.call(bob["access_token"], "get_public_info")
        refresh = await client.refresh(alice, client_of(alice))
    assert said == [200, 200]
    assert counted == [1.0, 1.0]
    for token, record in ((alice, for_alice), (bob, for_bob)):
        claims = jwt.decode(token["access_token"], options={"verify_signature": False})
        assert record["jti"] == claims["jti"]
        assert record["event"] == "signin"  # the event the sign-in log lines share
    # One decision of record per sign-in, naming who was granted what, and why not more.
    assert [(d["subject"], d["email"], set(d["scopes"]), d["revoked"]) for d in decided] == [
        (for_alice["subject"], "alice@example.com", {"public:read", "confidential:read"}, False),
        (for_bob["subject"], "bob@partner.example", {"public:read"}, False),
    ]
    assert all(d["event"] == "signin" and d["requested"] == [] for d in decided)
    refusal = describe_refusal("revoked", None, signin=True)
    for answer in (revoked_alice, revoked_bob):
        assert answer.status_code == 401
        assert answer.json()["error"]["data"]["error_description"] == refusal
    assert refresh.json() == {
        "error": "invalid_grant",
        "error_description": "the refresh token was revoked; sign in again",
    }


# Elements that have no end tag: nothing is inside them.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class PageText(HTMLParser):
    """What a person reads on a page: each piece of text, with the classes of the boxes
    it sits in (the page's style sheet draws a box per class), and every image it shows."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.pieces: list[tuple[str, list[str]]] = []
        self.images: list[str] = []
        self._open: list[tuple[str, str]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found.get("src") or "")
        if tag not in VOID:
            self._open.append((tag, found.get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        tags = [name for name, _ in self._open]
        if tag in tags:
            del self._open[len(tags) - 1 - tags[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not {"style", "script", "title"} & {name for name, _ in self._open}:
            self.pieces.append((text, [c for _, c in self._open if c]))


async def test_the_consent_page_names_the_scopes_asked_for_above_where_they_go(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str]
) -> None:
    async with served_app(monkeypatch, signin_env) as (app, base, _):
        _, browser = await SignIn(app, base).sign_in("bob", "public:read confidential:read")
    consent = browser.consent
    assert consent is not None, "the person was never asked to consent"
    # The page as sent whole: a browser reads no more of it than its length says.
    assert consent.headers["content-length"] == str(len(consent.content))
    page = PageText(consent.text)
    [where] = [i for i, (text, _) in enumerate(page.pieces) if text.startswith("Credentials will")]
    # The callback address in its highlighted box, as FastMCP's style sheet draws it...
    assert "redirect-section" in page.pieces[where][1]
    # ... and right above it, in the page's info box, the scopes the client asks for.
    above: list[str] = []
    for text, boxes in reversed(page.pieces[:where]):
        if "info-box" not in boxes:
            break
        above.insert(0, text)
    said = " ".join(above)
    assert "public:read" in said
    assert "confidential:read" in said
    # Its logo is inline: the page loads nothing from another site.
    assert page.images
    assert all(src.startswith("data:") for src in page.images)


async def test_a_person_the_policy_grants_nothing_is_told_so_and_so_is_their_client(
    monkeypatch: pytest.MonkeyPatch,
    signin_env: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with httpx.AsyncClient(verify=TLS) as http:
        configuration = await http.get(signin_env["MCP_OIDC_CONFIG_URL"])
    provider_issuer = configuration.json()["issuer"]
    # Alice is in the policy, but the operator revoked every token of hers by her subject.
    denylist = tmp_path / "denylist"
    denylist.write_text(f"sub:{provider_issuer}|alice\n")
    env = {"MCP_JWT_DENYLIST_FILE": str(denylist)}
    async with served_app(monkeypatch, signin_env, **env) as (app, base, _):
        client = SignIn(app, base)
        async with client.connect() as http:
            issuer = (await http.get("/.well-known/oauth-authorization-server")).json()["issuer"]
            before = decisions((await http.get("/metrics")).text, "denied", "signin_policy")
            with caplog.at_level(logging.INFO, logger="app.signin"):
                # Mallory is in no rule of the policy.
                mallory = await client.refused("mallory", "public:read")
                # Carol's domain is, but the provider has not verified her address.
                carol = await client.refused("carol")
                alice = await client.refused("alice")
            after = decisions((await http.get("/metrics")).text, "denied", "signin_policy")
    # Each is shown a page naming the account they signed in with, and the way back.
    assert "You signed in as mallory@elsewhere.example" in mallory.read()
    unverified = "carol@partner.example (an address the identity provider has not verified)"
    assert f"You signed in as {unverified}" in carol.read()
    assert "You signed in as alice@example.com" in alice.read()
    # An address the provider vouches for is shown as it is, with no warning.
    assert not any("not verified" in refused.read() for refused in (mallory, alice))
    # Their client is told access_denied and why, for the flow it started: no code.
    for refused in (mallory, carol, alice):
        assert refused.told["error"] == ["access_denied"]
        assert refused.told["state"] == [refused.state]
        assert refused.told["iss"] == [issuer]
        assert "code" not in refused.told
    # Why, naming the account by an address only the provider vouches for, and the
    # scopes asked for.
    [why] = mallory.told["error_description"]
    assert "mallory@elsewhere.example" in why
    assert "public:read" in why
    [why] = carol.told["error_description"]
    assert f"{provider_issuer}|carol" in why
    assert "carol@partner.example" not in why
    # Counted once each, as the policy's refusals.
    assert after - before == 3
    # The operator reads one decision of record per refusal: who, what, and whether revoked.
    decided = [vars(r) for r in caplog.records if r.getMessage() == "sign-in scopes granted"]
    assert [
        (d["event"], d["subject"], d["email"], d["requested"], d["scopes"], d["revoked"])
        for d in decided
    ] == [
        (
            "signin",
            f"{provider_issuer}|mallory",
            "mallory@elsewhere.example",
            ["public:read"],
            [],
            False,
        ),
        ("signin", f"{provider_issuer}|carol", None, [], [], False),
        ("signin", f"{provider_issuer}|alice", "alice@example.com", [], [], True),
    ]


async def test_replicas_sharing_redis_share_the_registration_limit(
    monkeypatch: pytest.MonkeyPatch, signin_env: dict[str, str], tmp_path: Path
) -> None:
    # A server keeps its Redis pool for its life; this test closes what its apps opened.
    stores: list[SharedStore] = []

    def recorded(url: str, options: dict[str, Any]) -> SharedStore:
        stores.append(shared_store(url, options))
        return stores[-1]

    monkeypatch.setattr(app.shared_limits, "shared_store", recorded)
    metadata = {"redirect_uris": [CLIENT_REDIRECT], "client_name": "t"}
    statuses = []
    with running(tmp_path, durable=False) as redis:
        env = {"MCP_RATE_LIMIT_STORAGE_URL": redis.url, "MCP_OAUTH_REGISTRATIONS_PER_MINUTE": "2"}
        try:
            async with (
                served_app(monkeypatch, signin_env, **env) as (app_a, base, _),
                served_app(monkeypatch, signin_env, **env) as (app_b, _, _),
            ):
                # One address registering through each replica in turn, as behind a balancer.
                for replica in (app_a, app_b, app_a):
                    async with SignIn(replica, base).connect() as http:
                        answer = await http.post("/register", json=metadata)
                    statuses.append(answer.status_code)
        finally:
            for store in stores:
                bridge = store.storage.bridge
                assert isinstance(bridge, RedispyBridge)
                await bridge.storage.aclose()
    # Counted in Redis, not per replica: the third is over the limit wherever it lands.
    assert statuses == [201, 201, 429]
