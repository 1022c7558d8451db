// Usage: node launch.mjs CONFIG_FILE KEY
// Reads an AI client's config the way the client does, launches the
// "scispot" entry's command with its args and env exactly as written (with
// a bare PATH, as GUI clients have), lists the tools, prints their count.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [file, key] = process.argv.slice(2);
const entry = JSON.parse(readFileSync(file, "utf8"))[key].scispot;
const env = { PATH: "/usr/bin:/bin", HOME: process.env.HOME, XDG_STATE_HOME: process.env.XDG_STATE_HOME, ...(entry.env ?? {}) };
const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env, stderr: "inherit" });
const client = new Client({ name: "launch-as-client", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
console.log(JSON.stringify({ command: entry.command, args: entry.args, tools: tools.length }));
await client.close();
