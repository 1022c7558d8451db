// Usage: node sign.mjs v1|v2-auto MEANING REASON BINARY [serve args...]
// Signs a write through the AI client, as a person would in its form: the
// v1 SDK answers the gateway's elicitation (protocol 2025), the v2 client
// in "auto" mode its input_required result (protocol 2026-07-28), both
// through their elicitation handler. Appends a paragraph to EXP-0002 and
// prints one JSON line: the negotiated protocol, the question the handler
// was shown, and the call's result.
const [sdk, meaning, reason, binary, ...args] = process.argv.slice(2);
let asked = null;
const answer = (params) => {
  asked = params;
  return { action: "accept", content: { meaning, reason } };
};
let client, protocolVersion;
if (sdk === "v1") {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
  const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
  const transport = new StdioClientTransport({ command: binary, args, env: process.env, stderr: "inherit" });
  transport.setProtocolVersion = (v) => { protocolVersion = v; };
  client = new Client({ name: "sign-ts-v1", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => answer(req.params));
  await client.connect(transport);
} else {
  const { Client } = await import("@modelcontextprotocol/client");
  const { StdioClientTransport } = await import("@modelcontextprotocol/client/stdio");
  const transport = new StdioClientTransport({ command: binary, args, env: process.env, stderr: "inherit" });
  client = new Client({ name: "sign-ts-v2", version: "2.0.0" },
    { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: "auto" } });
  client.setRequestHandler("elicitation/create", async (req) => answer(req.params));
  await client.connect(transport);
  protocolVersion = client.getNegotiatedProtocolVersion();
}
let call;
try {
  const r = await client.callTool({ name: "write_to_experiment", arguments: { hrid: "EXP-0002", html: "<p>Signed paragraph 4471.</p>" } });
  call = { isError: r.isError ?? false, text: (r.content ?? []).map((c) => c.text ?? "").join("\n") };
} catch (e) {
  call = { error: e.message };
}
console.log(JSON.stringify({ protocolVersion, asked, call }));
await client.close();
