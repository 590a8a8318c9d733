#!/usr/bin/env node
// Issue #10's operator trial, end to end and unattended: a 3-replica cluster on loopback with the
// production data-file layout (`scarab format` without --development), under the official
// tigerbeetle-node client's load the whole time. One backup at a time is stopped, random bytes are
// written over part of its data file (WAL prepares and a redundant-header sector; then two of its
// four superblock copies; then grid block headers), and it is started again; each time it must
// repair and catch up while the cluster keeps acknowledging transfers. Then a backup's data file
// is deleted outright, `scarab recover` makes a new one, and the replica must catch up again.
// At the end every acknowledged transfer is looked up and the accounts' totals are checked.
//
//   node scripts/operator-trial.mjs [--phase=SECONDS] [--dir=DIR] [--keep]
//
// Uses the compiled dist/ (build first). Prints one line per step and a summary; exit 0 when
// every check held, 1 otherwise. Needs about 4 GiB of disk per run (removed unless --keep).
import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import tigerbeetle from "tigerbeetle-node";
import { productionConfig as config } from "../dist/src/core/config.js";

const { CreateAccountStatus, CreateTransferStatus, createClient } = tigerbeetle;

const scarab = fileURLToPath(new URL("../bin/scarab.js", import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).map((arg) => {
  const match = /^--(phase|dir|keep)(?:=(.*))?$/.exec(arg);
  if (match === null) {
    console.error(`unknown argument ${arg}\nusage: node scripts/operator-trial.mjs [--phase=SECONDS] [--dir=DIR] [--keep]`);
    process.exit(2);
  }
  return [match[1], match[2] ?? true];
}));
const phaseMs = 1000 * Number(args.phase ?? 30);
const dir = args.dir ?? mkdtempSync(join(tmpdir(), "scarab-trial-"));
const clusterId = 7n;
const accountCount = 10_000;
const batch = 8189;
const started = performance.now();
const say = (line) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let failed = false;
const check = (ok, line) => {
  say(`${ok ? "ok  " : "FAIL"} ${line}`);
  if (!ok) failed = true;
};

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(argv) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [scarab, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (data) => (output += data));
    child.stderr.on("data", (data) => (output += data));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

const ports = [await freePort(), await freePort(), await freePort()];
const metricsPorts = [await freePort(), await freePort(), await freePort()];
const addresses = ports.map((port) => `127.0.0.1:${port}`).join(",");
const paths = [0, 1, 2].map((i) => join(dir, `replica_${i}.scarab`));
const children = [null, null, null];

function start(replica) {
  const log = openSync(join(dir, `replica_${replica}.log`), "a");
  const child = spawn(process.execPath, [scarab, "start", `--addresses=${addresses}`,
    `--metrics-address=127.0.0.1:${metricsPorts[replica]}`, paths[replica]], { stdio: ["ignore", log, log] });
  closeSync(log);
  children[replica] = child;
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  child.exited.then(({ code, signal }) => {
    if (children[replica] === child) check(false, `replica ${replica} exited on its own (code ${code}, signal ${signal})`);
  });
}

async function stop(replica, signal) {
  const child = children[replica];
  children[replica] = null;
  child.kill(signal);
  const { code } = await child.exited;
  if (signal === "SIGTERM") check(code === 0, `replica ${replica} stopped by SIGTERM (exit ${code})`);
}

async function metrics(replica) {
  const text = await new Promise((resolve) => {
    const request = get(`http://127.0.0.1:${metricsPorts[replica]}/metrics`, (response) => {
      let body = "";
      response.on("data", (data) => (body += data));
      response.on("end", () => resolve(body));
    });
    request.on("error", () => resolve(null));
    request.setTimeout(2000, () => request.destroy());
  });
  if (text === null) return null;
  const value = (name) => {
    const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, "m").exec(text);
    return match === null ? 0 : Number(match[1]);
  };
  return {
    primary: value("scarab_primary") === 1, normal: value('scarab_status{status="normal"}') === 1,
    commitMin: value("scarab_commit_min"), syncs: value('scarab_state_syncs_total{outcome="done"}'),
    repairs: Object.fromEntries(["prepare", "headers", "grid_block", "reply", "superblock"]
      .map((kind) => [kind, value(`scarab_repairs_total{kind="${kind}"}`)])),
  };
}

/** The highest commit any up replica reports, and which replica is primary. */
async function clusterView() {
  let commit = 0;
  let primary = null;
  for (let replica = 0; replica < 3; replica++) {
    if (children[replica] === null) continue;
    const m = await metrics(replica);
    if (m === null) continue;
    commit = Math.max(commit, m.commitMin);
    if (m.primary && m.normal) primary = replica;
  }
  return { commit, primary };
}

/** Waits until `replica` is in status normal and has committed `target`; returns its metrics. */
async function caughtUp(replica, target, timeoutMs = 180_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const m = await metrics(replica);
    if (m !== null && m.normal && m.commitMin >= target) return m;
    await sleep(250);
  }
  return null;
}

// ---- The load: the official client, batches of 8189 transfers of amount 1, ids 1, 2, 3, ...
let client = null; // created once the cluster has a primary (the official client logs every refused connection)
const load = { acknowledged: 0n, running: true, maxGapMs: 0, lastAck: 0, errors: 0 };

async function createAccounts() {
  for (let first = 1; first <= accountCount; first += batch) {
    const accounts = [];
    for (let id = first; id < Math.min(first + batch, accountCount + 1); id++) {
      accounts.push({ id: BigInt(id), debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
        user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 1, code: 1, flags: 0, timestamp: 0n });
    }
    const failed = (await client.createAccounts(accounts)).filter((r) => r.status !== CreateAccountStatus.created);
    if (failed.length > 0) throw new Error(`create_accounts: ${failed.length} failed, the first: ${CreateAccountStatus[failed[0].status]}`);
  }
}

async function runLoad() {
  let seed = 1;
  const random = () => (seed = (seed * 48271) % 2147483647);
  load.lastAck = performance.now();
  while (load.running) {
    const transfers = [];
    for (let i = 0; i < batch; i++) {
      const debit = 1 + (random() % accountCount);
      const credit = 1 + ((debit + random() % (accountCount - 1)) % accountCount);
      transfers.push({ id: load.acknowledged + BigInt(i) + 1n, debit_account_id: BigInt(debit), credit_account_id: BigInt(credit),
        amount: 1n, pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 1, code: 1,
        flags: 0, timestamp: 0n });
    }
    const results = await client.createTransfers(transfers);
    load.errors += results.filter((r) => r.status !== CreateTransferStatus.created).length;
    load.acknowledged += BigInt(batch);
    const now = performance.now();
    load.maxGapMs = Math.max(load.maxGapMs, now - load.lastAck);
    load.lastAck = now;
  }
}

async function damage(replica, kind) {
  const fd = openSync(paths[replica], "r+");
  const spots = [];
  const scribble = (offset, length) => writeSync(fd, Buffer.from(Array.from({ length }, () => Math.floor(Math.random() * 256))), 0, length, offset);
  const pick = (count, n) => [...new Set(Array.from({ length: count * 4 }, () => Math.floor(Math.random() * n)))].slice(0, count);
  const zones = config.zones;
  if (kind === "wal") {
    for (const slot of pick(8, config.journalSlotCount)) scribble(zones.walPrepares.offset + slot * config.messageSizeMax, 4096);
    const sector = Math.floor(Math.random() * (zones.walHeaders.size / 4096));
    scribble(zones.walHeaders.offset + sector * 4096, 4096);
    spots.push("8 prepares", `redundant-header sector ${sector}`);
  } else if (kind === "superblock") {
    for (const copy of pick(2, 4)) {
      scribble(zones.superblock.offset + copy * config.superblockCopySize, 4096);
      spots.push(`copy ${copy}`);
    }
  } else {
    const blocks = Math.floor((fstatSync(fd).size - zones.gridOffset) / config.blockSize);
    for (const index of pick(32, blocks)) scribble(zones.gridOffset + index * config.blockSize, 4096);
    spots.push(`the headers of 32 of its ${blocks} grid blocks`);
  }
  closeSync(fd);
  return spots.join(", ");
}

/** The backup whose grid was damaged: the recover phase takes the other one, so that the end can show its grid. */
let gridDamaged = null;

async function damagePhase(kind) {
  const { primary } = await clusterView();
  const replica = [0, 1, 2].find((i) => i !== primary);
  if (kind === "grid") gridDamaged = replica;
  await stop(replica, "SIGTERM");
  say(`replica ${replica} (a backup) stopped; overwrote ${await damage(replica, kind)}`);
  const ackedBefore = load.acknowledged;
  start(replica);
  await sleep(2000);
  const { commit } = await clusterView();
  const m = await caughtUp(replica, commit);
  check(m !== null, `replica ${replica} restarted after ${kind} damage and reached commit ${commit}` +
    (m === null ? " (it did not within 180 s)" : `: repairs ${JSON.stringify(m.repairs)}, state syncs ${m.syncs}`));
  check(load.acknowledged > ackedBefore, `the cluster kept acknowledging (${load.acknowledged - ackedBefore} transfers meanwhile)`);
}

async function recoverPhase() {
  const { primary } = await clusterView();
  const replica = [0, 1, 2].find((i) => i !== primary && i !== gridDamaged) ?? [0, 1, 2].find((i) => i !== primary);
  await stop(replica, "SIGKILL");
  rmSync(paths[replica]);
  say(`replica ${replica} (a backup) killed with SIGKILL and its data file deleted`);
  const recovered = await run(["recover", `--addresses=${addresses}`, `--cluster=${clusterId}`, `--replica=${replica}`, paths[replica]]);
  check(recovered.code === 0, `scarab recover exit ${recovered.code}: ${recovered.output.trim().split("\n").at(-1)}`);
  start(replica);
  await sleep(2000);
  const { commit } = await clusterView();
  const m = await caughtUp(replica, commit, 300_000);
  check(m !== null, `recovered replica ${replica} reached commit ${commit}` +
    (m === null ? " (it did not within 300 s)" : `: state syncs ${m.syncs}, repairs ${JSON.stringify(m.repairs)}`));
}

async function verify() {
  let found = 0n;
  for (let first = 1n; first <= load.acknowledged; first += BigInt(batch)) {
    const ids = [];
    for (let id = first; id < first + BigInt(batch) && id <= load.acknowledged; id++) ids.push(id);
    const transfers = await client.lookupTransfers(ids);
    found += BigInt(transfers.filter((t, i) => t.id === ids[i] && t.amount === 1n).length);
  }
  check(found === load.acknowledged, `every acknowledged transfer is there: ${found} of ${load.acknowledged}`);
  let debits = 0n;
  let credits = 0n;
  for (let first = 1; first <= accountCount; first += batch) {
    const ids = [];
    for (let id = first; id < Math.min(first + batch, accountCount + 1); id++) ids.push(BigInt(id));
    for (const account of await client.lookupAccounts(ids)) {
      debits += account.debits_posted;
      credits += account.credits_posted;
    }
  }
  check(debits === load.acknowledged && credits === load.acknowledged,
    `account totals match: debits ${debits}, credits ${credits}, transfers ${load.acknowledged}`);
}

try {
  say(`directory ${dir}; production layout (${config.journalSlotCount} WAL slots of ${config.messageSizeMax / 1024} KiB, ` +
    `${config.blockSize / 1024} KiB grid blocks)`);
  for (let replica = 0; replica < 3; replica++) {
    const formatted = await run(["format", `--cluster=${clusterId}`, `--replica=${replica}`, "--replica-count=3", paths[replica]]);
    if (formatted.code !== 0) throw new Error(`format failed: ${formatted.output}`);
  }
  for (let replica = 0; replica < 3; replica++) start(replica);
  const deadline = performance.now() + 60_000;
  while ((await clusterView()).primary === null) {
    if (performance.now() > deadline) throw new Error("no primary in status normal within 60 s");
    await sleep(200);
  }
  client = createClient({ cluster_id: clusterId, replica_addresses: ports.map(String) });
  await createAccounts();
  say(`${accountCount} accounts created; load starts (batches of ${batch} transfers)`);
  const loadDone = runLoad();
  const progress = setInterval(() => say(`${load.acknowledged} transfers acknowledged`), 10_000);
  for (const phase of ["wal", "superblock", "grid", "recover"]) {
    await sleep(phaseMs);
    if (phase === "recover") await recoverPhase();
    else await damagePhase(phase);
  }
  await sleep(phaseMs);
  load.running = false;
  await loadDone;
  clearInterval(progress);
  const seconds = (performance.now() - started) / 1000;
  check(load.errors === 0, `no transfer failed (${load.errors} errors)`);
  say(`load stopped: ${load.acknowledged} transfers acknowledged; longest wait for an acknowledgement ${(load.maxGapMs / 1000).toFixed(1)} s`);
  const { commit } = await clusterView();
  for (let replica = 0; replica < 3; replica++) {
    check((await caughtUp(replica, commit, 60_000)) !== null, `replica ${replica} reached the cluster's commit ${commit}`);
  }
  await verify();
  for (let replica = 0; replica < 3; replica++) {
    const m = await metrics(replica);
    say(`replica ${replica} since its last start: repairs ${JSON.stringify(m?.repairs)}, state syncs ${m?.syncs}`);
  }
  say(`${failed ? "FAILED" : "passed"} in ${seconds.toFixed(0)} s of load, ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
} catch (error) {
  check(false, `trial aborted: ${error.stack ?? error}`);
} finally {
  client?.destroy();
  for (let replica = 0; replica < 3; replica++) if (children[replica] !== null) await stop(replica, "SIGTERM");
  // What is still damaged on disk: cold grid blocks are repaired when read or by the scrubber.
  for (let replica = 0; replica < 3; replica++) {
    if (!existsSync(paths[replica])) continue;
    const { code, output } = await run(["inspect", "integrity", paths[replica]]);
    const lines = output.trim().split("\n");
    const damaged = lines.indexOf("damaged:");
    say(`inspect integrity, replica ${replica}${replica === gridDamaged ? " (its grid was damaged)" : ""}: ` +
      `exit ${code}: ${lines.at(-1)}`);
    if (damaged >= 0) for (const line of lines.slice(damaged + 1, -1)) say(`  ${line.trim()}`);
  }
  if (args.keep === true || failed) say(`kept ${dir} (data files and replica logs)`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
