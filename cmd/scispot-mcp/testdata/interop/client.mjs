// Usage: node client.mjs BINARY [serve args...]
// Spawns the gateway over stdio exactly as a desktop client does, lists its
// tools and makes one call; prints one JSON summary line on stdout, with
// the protocol version the initialize handshake settled on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [binary, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: binary, args, env: process.env, stderr: "inherit" });
// The v1 client hands the negotiated version to transports that take it
// (HTTP sends it as a header); stdio has no such method, so lend it one.
let protocolVersion;
transport.setProtocolVersion = (v) => { protocolVersion = v; };
const client = new Client({ name: "interop-ts", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const call = await client.callTool({ name: "get_manifest", arguments: { id: "PLT-00142" } });
const denied = await client.callTool({ name: "update_labsheet_rows", arguments: { labsheet: "Cell Lines" } });
console.log(JSON.stringify({
  protocolVersion,
  server: client.getServerVersion(),
  instructions: client.getInstructions(),
  tools: tools.map((t) => ({ name: t.name, description: t.description, readOnly: t.annotations?.readOnlyHint ?? null })),
  call: { isError: call.isError ?? false, text: call.content.map((c) => c.text ?? "").join("\n") },
  denied: { isError: denied.isError ?? false, text: denied.content.map((c) => c.text ?? "").join("\n") },
}));
await client.close();
