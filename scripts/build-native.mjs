#!/usr/bin/env node
// Builds the optional native addon (native/, binding.gyp) during `npm install`.
//
// The addon only makes checksums faster; the TypeScript fallback gives identical results. So a
// failed build must never fail the install: every failure path prints one line and exits 0.
// node-gyp's own output is captured and shown only with SCARAB_NATIVE_VERBOSE=1.
//
// Nothing is downloaded: node-gyp is the copy bundled with npm, and the Node headers come from
// npm's `nodedir` config (or are found next to the node binary). Without local headers we skip the
// build rather than let node-gyp fetch a headers tarball.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const addonPath = join(root, "build", "Release", "scarab_native.node");
const verbose = process.env["SCARAB_NATIVE_VERBOSE"] === "1";
const buildTimeoutMs = 10 * 60 * 1000;

/** Thrown for expected failures: its message is the short reason shown to the user. */
class BuildSkipped extends Error {}

function main() {
  try {
    const implementation = build();
    console.log(`scarab: native addon built (${implementation})`);
  } catch (error) {
    removeStaleAddon();
    const reason = error instanceof BuildSkipped ? error.message : `unexpected error: ${firstLine(error)}`;
    console.log(`scarab: native addon not built (${reason}); using the TypeScript fallback (slower)`);
    if (verbose && !(error instanceof BuildSkipped)) console.error(error);
  }
  process.exitCode = 0;
}

/** Runs node-gyp, then checks the result in a child process. Returns the implementation name. */
function build() {
  if (process.env["SCARAB_NATIVE"] === "0") throw new BuildSkipped("SCARAB_NATIVE=0");
  if (!existsSync(join(root, "binding.gyp"))) throw new BuildSkipped("binding.gyp missing");
  const nodeGyp = findNodeGyp();
  const args = [...nodeGyp.args, "rebuild", ...nodedirArgs()];
  const result = spawnSync(nodeGyp.command, args, {
    cwd: root,
    encoding: "utf8",
    stdio: "pipe",
    timeout: buildTimeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (verbose) process.stderr.write(`${result.stdout ?? ""}${result.stderr ?? ""}`);
  if (result.error) throw new BuildSkipped(`node-gyp could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new BuildSkipped(summariseFailure(`${result.stdout ?? ""}\n${result.stderr ?? ""}`));
  }
  if (!existsSync(addonPath)) throw new BuildSkipped("node-gyp produced no scarab_native.node");
  return verifyAddon();
}

/**
 * npm passes its bundled node-gyp as npm_config_node_gyp to install scripts. When this script is
 * run by hand, look for that same bundled copy next to npm, then for node-gyp on PATH. `npm exec
 * node-gyp` is deliberately not used: it may fetch node-gyp from the registry.
 */
function findNodeGyp() {
  const candidates = [
    process.env["npm_config_node_gyp"],
    process.env["npm_execpath"] && join(dirname(dirname(process.env["npm_execpath"])), "node_modules", "node-gyp", "bin", "node-gyp.js"),
    join(dirname(dirname(process.execPath)), "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate)) return { command: process.execPath, args: [candidate] };
  }
  const onPath = spawnSync("node-gyp", ["--version"], { encoding: "utf8", stdio: "pipe" });
  if (!onPath.error && onPath.status === 0) return { command: "node-gyp", args: [] };
  throw new BuildSkipped("node-gyp not found");
}

/**
 * node-gyp reads npm_config_nodedir itself. Otherwise pass the headers installed with this node
 * binary, or rely on node-gyp's cache if it already holds them; never let it download.
 */
function nodedirArgs() {
  const configured = process.env["npm_config_nodedir"];
  if (configured) {
    if (!hasHeaders(configured)) throw new BuildSkipped(`no Node headers under nodedir=${configured}`);
    return [];
  }
  const prefixes = [dirname(dirname(process.execPath)), process.config.variables?.node_prefix];
  for (const prefix of prefixes) {
    if (typeof prefix === "string" && hasHeaders(prefix)) return [`--nodedir=${prefix}`];
  }
  const version = process.version.slice(1);
  const cacheDirectory = join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "node-gyp", version);
  if (hasHeaders(cacheDirectory)) return [];
  throw new BuildSkipped("Node headers not found locally; set npm's nodedir config");
}

function hasHeaders(directory) {
  return existsSync(join(directory, "include", "node", "node_api.h"));
}

/**
 * Loads the fresh addon in a child process (a broken binary must not crash the install) and checks
 * it against two spec vectors (wire.md §7.7). A wrong addon is worse than none, so it is removed.
 */
function verifyAddon() {
  const check = `
    const addon = require(${JSON.stringify(addonPath)});
    const out = new Uint8Array(16);
    const hex = () => Buffer.from(out).toString("hex");
    addon.aegisMac(new Uint8Array(0), out, 0);
    if (hex() !== "83cc600dc4e3e7e62d4055826174f149") throw new Error("wrong tag for the empty input");
    const bytes = new Uint8Array(256).map((_, i) => i);
    addon.aegisMac(bytes, out, 0);
    if (hex() !== "d6ba1c495ca4c976f5d0993644aa9acd") throw new Error("wrong tag for bytes 0..255");
    process.stdout.write(addon.aesni() ? "AES-NI" : "portable C, no AES-NI on this CPU");
  `;
  const result = spawnSync(process.execPath, ["-e", check], { encoding: "utf8", stdio: "pipe", timeout: 60_000 });
  if (result.status !== 0) {
    const detail = firstErrorLine(result.stderr ?? "") ?? `exit status ${result.status ?? result.signal}`;
    throw new BuildSkipped(`built addon failed its self-test: ${detail}`);
  }
  return result.stdout.trim();
}

/** The most useful short line of node-gyp's output: a compiler error, else node-gyp's own. */
function summariseFailure(output) {
  const lines = output.split("\n").map((line) => line.trim());
  const compiler = lines.find((line) => /\berror:/i.test(line) && !line.startsWith("gyp"));
  if (compiler) return `compile failed: ${truncate(compiler)}`;
  if (lines.some((line) => /^gyp ERR! find Python/.test(line))) return "node-gyp found no Python";
  // gyp itself is Python: its failures end in a traceback whose last line names the problem.
  const pythonError = lines.find((line) => /^[A-Za-z]+Error: /.test(line));
  if (pythonError) return `gyp configure failed: ${truncate(pythonError)}`;
  const stack = lines.find((line) => line.startsWith("gyp ERR! stack Error:"));
  if (stack) return `node-gyp failed: ${truncate(stack.slice("gyp ERR! stack Error:".length).trim())}`;
  const anyError = lines.find((line) => line.startsWith("gyp ERR!"));
  return anyError ? `node-gyp failed: ${truncate(anyError.slice("gyp ERR!".length).trim())}` : "node-gyp failed";
}

function firstErrorLine(text) {
  return text.split("\n").map((line) => line.trim()).find((line) => /Error/.test(line));
}

function firstLine(error) {
  return truncate(String(error instanceof Error ? error.message : error).split("\n")[0] ?? "");
}

function truncate(text) {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** After a failure, drop any addon left by an earlier build so the status line above is true. */
function removeStaleAddon() {
  try {
    rmSync(addonPath, { force: true });
  } catch {
    // Best effort: a leftover file is still loaded and checked by src/core/native_addon.ts.
  }
}

main();
