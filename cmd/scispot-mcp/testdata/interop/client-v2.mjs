// Usage: node client-v2.mjs [--auto] BINARY [serve args...]
// The same exchange as client.mjs, with the v2 TypeScript SDK client
// (@modelcontextprotocol/client, the split packages). By default it
// negotiates the way v2 does out of the box (versionNegotiation "legacy":
// an initialize handshake); --auto probes for a 2026-07-28+ server first
// (server/discover) and falls back to initialize. Prints one JSON summary
// line on stdout, with the protocol version and era it negotiated and the
// client's own error for any step it rejected.
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

let argv = process.argv.slice(2);
const auto = argv[0] === "--auto";
if (auto) argv = argv.slice(1);
const [binary, ...args] = argv;
const transport = new StdioClientTransport({ command: binary, args, env: process.env, stderr: "inherit" });
const client = new Client(
  { name: "interop-ts-v2", version: "2.0.0" },
  auto ? { versionNegotiation: { mode: "auto" } } : undefined,
);
await client.connect(transport);
const protocolVersion = client.getNegotiatedProtocolVersion();
const era = client.getProtocolEra?.();
// A step the client rejects is reported with the client's own error
// instead of ending the run, so the summary says which step failed.
const step = async (f) => { try { return await f(); } catch (e) { return { error: e.message }; } };
const text = (r) => (r.content ?? []).map((c) => c.text ?? "").join("\n");
const result = (r) => (r.error ? { error: r.error } : { isError: r.isError ?? false, text: text(r) });
const listed = await step(() => client.listTools());
const tools = listed.tools ?? [];
const call = await step(() => client.callTool({ name: "get_manifest", arguments: { id: "PLT-00142" } }));
const denied = await step(() => client.callTool({ name: "update_labsheet_rows", arguments: { labsheet: "Cell Lines" } }));
console.log(JSON.stringify({
  protocolVersion,
  era,
  server: client.getServerVersion(),
  instructions: client.getInstructions(),
  listError: listed.error,
  tools: tools.map((t) => ({ name: t.name, description: t.description, readOnly: t.annotations?.readOnlyHint ?? null })),
  call: result(call),
  denied: result(denied),
}));
await client.close();
