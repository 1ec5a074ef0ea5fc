"""The person at the browser, played headlessly, and a real MCP client that signs in.

`Browser.authorize` follows the redirects from the server's /authorize, approves
the server's consent page, picks the person on the provider's sign-in form, and
stops at the redirect back to the MCP client, returning the code and state the
client's own callback would have received. The MCP client is the Python SDK's
OAuthClientProvider (discovery, dynamic registration, PKCE, token, refresh).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

CLIENT_REDIRECT = "http://127.0.0.1:53682/callback"  # never listened on: the browser stops before
MAX_STEPS = 12

# One certificate store for every test client: httpx loads the CA bundle each time it
# builds a TLS context (~20 ms), more than the rest of an in-process request.
TLS = ssl.create_default_context()


def _hidden_inputs(html: str) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            inputs[name.group(1)] = unescape(value.group(1)) if value else ""
    return inputs


@dataclass
class Browser:
    """One person's browser: a cookie jar, and the answers they give on each page."""

    person: str
    approve: bool = True
    # Lets a test send a step to another replica, as a round-robin load balancer would.
    route: Callable[[str], str] = lambda url: url
    visited: list[str] = field(default_factory=list)
    refusal: str | None = None  # the server's refusal page, when it showed one
    consent: httpx.Response | None = None  # the server's consent page, when it showed one
    # The browser's connection: a test serving the app in-process routes its host to it.
    connect: Callable[[], httpx.AsyncClient] = lambda: httpx.AsyncClient(timeout=10, verify=TLS)

    async def authorize(self, url: str) -> AuthorizationCodeResult:
        return self._result(await self.back_to_client(url))

    async def back_to_client(self, url: str) -> str:
        """Where the browser is sent back to the client: with a code, or with an error."""
        async with self.connect() as http:
            response = await http.get(self._go(url))
            for _ in range(MAX_STEPS):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if location.startswith(CLIENT_REDIRECT):
                        return location
                    response = await http.get(self._go(location))
                elif 'name="csrf_token"' in response.text:  # the server's consent page
                    self.consent = response
                    form = _hidden_inputs(response.text)
                    form["action"] = "approve" if self.approve else "deny"
                    response = await http.post(self._go(str(response.url)), data=form)
                elif 'name="sub"' in response.text:  # the provider's sign-in page
                    response = await http.post(response.url, data={"sub": self.person})
                elif response.status_code == 403 and "Return to the application" in response.text:
                    # The server's refusal page: the person reads it, then goes back.
                    self.refusal = response.text
                    back = re.search(r'<a href="([^"]+)">Return', response.text)
                    assert back is not None, response.text
                    return unescape(back.group(1))
                else:
                    raise AssertionError(
                        f"unexpected page {response.url} ({response.status_code}): "
                        f"{response.text[:300]}"
                    )
        raise AssertionError(f"no redirect back to the client after {MAX_STEPS} steps")

    def _go(self, url: str) -> str:
        routed = self.route(url)
        self.visited.append(routed)
        return routed

    @staticmethod
    def _result(location: str) -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(location).query)
        if "code" not in query:
            raise AssertionError(f"the authorization was refused: {query}")
        return AuthorizationCodeResult(
            code=query["code"][0],
            state=query.get("state", [None])[0],
            iss=query.get("iss", [None])[0],
        )


class Balancer:
    """A round-robin load balancer in front of replicas, played on the client side.

    Every request to the public address goes to the next replica in turn, so a
    sign-in flow (registration, authorization, consent, callback, token, MCP
    calls) hops between replicas at every step, as behind a real balancer.
    """

    def __init__(self, public_url: str, replica_ports: list[int]) -> None:
        self.public = urlsplit(public_url).netloc
        self.ports = replica_ports
        self.sent: list[int] = []

    def _next(self) -> int:
        port = self.ports[len(self.sent) % len(self.ports)]
        self.sent.append(port)
        return port

    def route(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.netloc != self.public:
            return url
        return parts._replace(netloc=f"{parts.hostname}:{self._next()}").geturl()

    def transport(self) -> httpx2.AsyncBaseTransport:
        balancer = self

        class Transport(httpx2.AsyncHTTPTransport):
            async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
                if request.url.netloc.decode() == balancer.public:
                    request.url = request.url.copy_with(port=balancer._next())
                return await super().handle_async_request(request)

        return Transport()


class MemoryTokens:
    """The client's token storage (the SDK asks for one; a real client would use a keychain)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def oauth_client(
    server_url: str, browser: Browser, storage: MemoryTokens, scope: str | None = None
) -> OAuthClientProvider:
    """The SDK's OAuth client, wired to the headless browser instead of a real one."""
    pending: dict[str, str] = {}

    async def redirect(url: str) -> None:
        pending["url"] = url

    async def callback() -> AuthorizationCodeResult:
        return await browser.authorize(pending.pop("url"))

    metadata = OAuthClientMetadata(
        client_name="signin test",
        redirect_uris=[CLIENT_REDIRECT],  # type: ignore[list-item]
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope=scope,
    )
    return OAuthClientProvider(
        server_url=server_url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect,
        callback_handler=callback,
    )


async def list_tools(
    server_url: str, auth: httpx2.Auth, transport: httpx2.AsyncBaseTransport | None = None
) -> list[str]:
    """Connect with the SDK's client (initialize handshake), and list the tool names."""
    async with (
        httpx2.AsyncClient(auth=auth, timeout=15, transport=transport) as http,
        streamable_http_client(server_url, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        result = await session.list_tools()
        return sorted(tool.name for tool in result.tools)


async def sign_in(server_url: str, person: str, scope: str | None = None) -> MemoryTokens:
    """`person` signs in through a real MCP client; their tokens and client are returned."""
    storage = MemoryTokens()
    await list_tools(server_url, oauth_client(server_url, Browser(person), storage, scope))
    assert storage.tokens is not None
    return storage


async def call_tool(server_url: str, token: str, tool: str) -> httpx.Response:
    """One raw JSON-RPC tools/call with `token`, the answer as the server sent it."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": {}},
    }
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.post(server_url, headers=headers, json=message)


def error_description(response: httpx.Response) -> str:
    """The error_description of a 401/403 challenge, from its WWW-Authenticate header."""
    header = response.headers.get("www-authenticate", "")
    found = re.search(r'error_description="((?:[^"\\]|\\.)*)"', header)
    return found.group(1) if found else ""


async def call_as_client(
    server_url: str, auth: httpx2.Auth, tool: str
) -> tuple[list[str], BaseException | None]:
    """Call `tool` with the SDK's client as a user would; its result text, or what it raised."""
    try:
        async with (
            httpx2.AsyncClient(auth=auth, timeout=15) as http,
            streamable_http_client(server_url, http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            result = await session.call_tool(tool, {})
            return [getattr(part, "text", "") for part in result.content], None
    except BaseException as error:
        return [], error


def all_messages(error: BaseException) -> str:
    """The messages of an error and of every error grouped inside it (anyio task groups)."""
    inner = error.exceptions if isinstance(error, BaseExceptionGroup) else ()
    return " ".join([str(error), *(all_messages(e) for e in inner)])
