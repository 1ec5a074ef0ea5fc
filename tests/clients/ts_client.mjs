// The TypeScript SDK as a test client: one line of JSON saying what it got.
// Usage: node ts_client.mjs URL TOKEN|- list|call static|oauth
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, action, mode] = process.argv.slice(2);
const bearer = token === "-" ? undefined : token;
let authProvider;
if (mode === "oauth") {
  // What a desktop client configures: it may sign in, and a browser step fails the test.
  let verifier = "";
  authProvider = {
    get redirectUrl() { return "http://127.0.0.1:53682/callback"; },
    get clientMetadata() {
      return { client_name: "ts test", redirect_uris: ["http://127.0.0.1:53682/callback"] };
    },
    clientInformation() { return undefined; },
    saveClientInformation() {},
    tokens() { return bearer ? { access_token: bearer, token_type: "Bearer" } : undefined; },
    saveTokens() {},
    redirectToAuthorization(where) { throw new Error(`reached a browser step: ${where}`); },
    saveCodeVerifier(value) { verifier = value; },
    codeVerifier() { return verifier; },
  };
}
const headers = bearer && mode !== "oauth" ? { Authorization: `Bearer ${bearer}` } : {};
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, authProvider });
const client = new Client({ name: "ts test", version: "1.0.0" });
try {
  await client.connect(transport);
  if (action === "call") {
    const result = await client.callTool({ name: "get_confidential_info", arguments: {} });
    console.log(JSON.stringify({ ok: result.content[0].text.slice(0, 40) }));
  } else {
    console.log(JSON.stringify({ ok: (await client.listTools()).tools.map((t) => t.name).sort() }));
  }
} catch (error) {
  console.log(JSON.stringify({ error: `${error.name}: ${error.message}` }));
}
process.exit(0);
