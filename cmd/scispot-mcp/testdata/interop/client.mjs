// Usage: node client.mjs BINARY [serve args...]
// Spawns the gateway over stdio exactly as a desktop client does, lists its
// tools and makes one call; prints one JSON summary line on stdout.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [binary, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: binary, args, env: process.env, stderr: "inherit" });
const client = new Client({ name: "interop-ts", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const call = await client.callTool({ name: "get_manifest", arguments: { id: "PLT-00142" } });
const denied = await client.callTool({ name: "update_labsheet_rows", arguments: { labsheet: "Cell Lines" } });
console.log(JSON.stringify({
  server: client.getServerVersion(),
  instructions: client.getInstructions(),
  tools: tools.map((t) => ({ name: t.name, readOnly: t.annotations?.readOnlyHint ?? null })),
  call: { isError: call.isError ?? false, text: call.content.map((c) => c.text ?? "").join("\n") },
  denied: { isError: denied.isError ?? false, text: denied.content.map((c) => c.text ?? "").join("\n") },
}));
await client.close();
