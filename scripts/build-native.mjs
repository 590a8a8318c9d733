#!/usr/bin/env node
// Builds the optional native addon (native/, binding.gyp) during `npm install`.
//
// The addon makes checksums faster (the TypeScript fallback gives identical results) and carries
// the io_uring storage backend (the portable node:fs backend works without it). So a failed build
// must never fail the install: every failure path prints one line and exits 0.
//
// The addon is one binary; whether io_uring works is decided at run time (a container may refuse
// it). Its self-test runs apart from the checksum one: io_uring unavailable on the build machine
// is only reported, and an io_uring part that misbehaves is switched off (a marker file beside
// the addon, read by src/core/native_addon.ts) without losing the checksum path.
// node-gyp's own output is captured and shown only with SCARAB_NATIVE_VERBOSE=1.
//
// Nothing is downloaded: node-gyp is the copy bundled with npm, and the Node headers come from
// npm's `nodedir` config (or are found next to the node binary). Without local headers we skip the
// build rather than let node-gyp fetch a headers tarball.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const addonPath = join(root, "build", "Release", "scarab_native.node");
const ioUringOffPath = join(root, "build", "Release", "scarab_native.io_uring_off");
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
  const checksum = verifyAddon();
  return `${checksum}; ${verifyIoUring()}`;
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

/**
 * A ring round trip in a child process: write, fdatasync, read back, a timed wait, close. Returns
 * the status for the install line. A ring that misbehaves (wrong bytes, a crash) turns io_uring
 * off for this build; one the kernel refuses (EPERM, ENOSYS: seccomp, a sysctl) is left on, since
 * the machine that runs Scarab may allow it, and it is checked again at every start.
 */
function verifyIoUring() {
  rmSync(ioUringOffPath, { force: true });
  const check = `
    const fs = require("node:fs"), os = require("node:os"), path = require("node:path");
    const addon = require(${JSON.stringify(addonPath)});
    const completions = new Int32Array(8);
    const results = [];
    let ring;
    try {
      ring = addon.uringCreate(4, completions, (count) => {
        for (let i = 0; i < count; i++) results.push([completions[2 * i], completions[2 * i + 1]]);
      }, 1);
    } catch (error) {
      process.stdout.write("refused: " + error.message);
      process.exit(0);
    }
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "scarab-io-uring-"));
    const fd = fs.openSync(path.join(directory, "check"), "w+");
    try {
      const data = new Uint8Array(8192).map((_, i) => (i * 7) % 251);
      addon.uringWrite(ring, fd, data, 4096, 0);
      while (results.length < 1) addon.uringWait(ring, 5e9);
      addon.uringFsync(ring, fd, 1);
      const back = new Uint8Array(16384).fill(255);
      addon.uringRead(ring, fd, back, 0, 2);
      while (results.length < 3) addon.uringWait(ring, 5e9);
      const expected = JSON.stringify([[0, 8192], [1, 0], [2, 12288]]);
      // The fsync and the read were in flight together: either may complete first.
      results.sort((a, b) => a[0] - b[0]);
      if (JSON.stringify(results) !== expected) throw new Error("completions " + JSON.stringify(results));
      if (back.subarray(0, 4096).some((b) => b !== 0) || back.subarray(12288).some((b) => b !== 0) ||
        Buffer.compare(back.subarray(4096, 12288), data) !== 0) throw new Error("read back the wrong bytes");
      const start = process.hrtime.bigint();
      addon.uringWait(ring, 20e6);
      if (process.hrtime.bigint() - start < 19e6) throw new Error("an idle wait returned before its deadline");
      addon.uringClose(ring);
      process.stdout.write("ok");
    } finally {
      fs.closeSync(fd);
      fs.rmSync(directory, { recursive: true, force: true });
    }
  `;
  const result = spawnSync(process.execPath, ["-e", check], { encoding: "utf8", stdio: "pipe", timeout: 60_000 });
  const out = (result.stdout ?? "").trim();
  if (result.status === 0 && out === "ok") return "io_uring ok";
  if (result.status === 0 && out.startsWith("refused: ")) {
    return `io_uring refused here (${truncate(out.slice("refused: ".length))}): the portable storage backend is used`;
  }
  const thrown = (result.stderr ?? "").split("\n").map((line) => line.trim()).find((line) => /^\w*Error: /.test(line));
  const detail = thrown ?? `exit status ${result.status ?? result.signal}`;
  writeFileSync(ioUringOffPath, `io_uring failed its self-test at install: ${detail}\n`);
  return `io_uring failed its self-test (${truncate(detail)}) and is off: the portable storage backend is used`;
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
    rmSync(ioUringOffPath, { force: true });
  } catch {
    // Best effort: a leftover file is still loaded and checked by src/core/native_addon.ts.
  }
}

main();
