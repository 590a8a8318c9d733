// Repair (spec/vsr.md §7): a replica fills holes in its log from peers — headers first (a header
// is needed to know which prepare to trust), then prepares, oldest first. It serves backups only
// what it can vouch for: its own log in normal status, and executed (hence committed) ops
// otherwise. The primary of its view gets every header it holds (as TigerBeetle's on_get_headers
// serves any): a primary installs a header only as the next link down of the hash chain that
// hangs off its head, so a stale one is harmless to it. A missing or corrupt prepare is never
// answered: silence is safer than a wrong nack.
import { assert } from "../../core/assert.js";
import { headerSize } from "../../core/config.js";
import {
  GetHeadersHeader, GetPrepareHeader, Header, PrepareHeader, setChecksums, verifyHeaderChecksum,
} from "../../core/header.js";
import { Command } from "../../core/command.js";
import type { Replica } from "../replica.js";
import { requestView, startViewIfReady } from "./view_change.js";
import { repairStuck, tickSync } from "./sync.js";
import { newMessage } from "../../core/message_slab.js";

/** At most this many get_prepare messages per repair tick, to bound the burst. */
const prepareRequestsPerTick = 4;

export function tickRepair(replica: Replica): void {
  if (!replica.timeouts.journalRepair.fired()) return;
  replica.timeouts.journalRepair.reset();
  if (journalRepairIdle(replica)) return;
  if (replica.syncing !== null) return tickSync(replica);
  if (!repairing(replica)) return;
  assert(replica.status === "normal" || (replica.status === "view_change" && replica.isPrimary));
  assert(replica.syncing === null && replica.commitMin <= replica.op);
  if (replica.status === "normal" && !replica.isPrimary && replica.commitMax > replica.opPrepareMax) {
    // The cluster committed past what our WAL may hold: only a newer checkpoint helps (§8).
    requestView(replica, replica.view);
    return;
  }
  // Synced while normal, the view that asked for the sync could not be re-applied: until a
  // `view` reinstalls our log we may not acknowledge (pipeline.ts ack), so ask for one.
  if (replica.status === "normal" && !replica.isPrimary && replica.logDiscardedBySync) requestView(replica, replica.view);
  // Without our checkpoint's state (replica.ts stateLoaded), a newer checkpoint in the primary's
  // `view` lets us state-sync past the blocks we wait for.
  else if (replica.status === "normal" && !replica.isPrimary && !replica.stateLoaded) requestView(replica, replica.view);
  requestMissingHeaders(replica);
  requestMissingPrepares(replica);
  if (replica.status === "view_change") startViewIfReady(replica);
  else replica.commitJournal();
}

/**
 * A backup's repair_sync firing (TigerBeetle's on_repair_sync_timeout): it notes whether commit
 * advanced since the last one; with repair stuck, it asks the primary for its `view`, whose
 * checkpoint onView syncs to if that is durable (sync.ts syncNeeded).
 */
export function tickRepairSync(replica: Replica): void {
  assert(replica.status === "normal" && !replica.isPrimary);
  const progress = replica.walRepairProgress;
  progress.advanced = progress.commitMin < replica.commitMin;
  progress.commitMin = replica.commitMin;
  if (repairStuck(replica)) requestView(replica, replica.view);
}

/**
 * A journal_repair firing that would only restart the timeout: no state sync to drive, and (if
 * repairing) nothing to ask peers for and nothing to commit. Replica.quietTicksAhead counts such
 * firings as quiet ticks, so this is the one test of it.
 */
export function journalRepairIdle(replica: Replica): boolean {
  if (replica.syncing !== null) return false;
  if (!repairing(replica)) return true;
  if (replica.status !== "normal") return false; // a new primary repairing before it starts the view
  if (!replica.isPrimary && (replica.commitMax > replica.opPrepareMax || replica.logDiscardedBySync || !replica.stateLoaded)) {
    return false; // it asks for a view
  }
  return replica.commitMin === replica.commitMax && replica.journal.dirtyCount === 0 &&
    replica.canonicalFrom() === replica.commitMin + 1;
}

function repairing(replica: Replica): boolean {
  if (replica.status === "normal") return true;
  // The new primary, once it has chosen the log, repairs before starting the view.
  return replica.status === "view_change" && replica.viewLogChosen;
}

/**
 * Whom to ask: a backup asks the primary half of the time (it holds the whole log) and a random
 * other replica otherwise — the primary may have state-synced past what we lack, and a peer may
 * still hold it.
 */
function repairTarget(replica: Replica): number {
  if (replica.status === "normal" && !replica.isPrimary && replica.prng.chance(1, 2)) {
    const primary = replica.primaryOf(replica.view);
    assert(primary !== replica.replica && primary < replica.replicaCount, "a backup's primary is another replica");
    return primary;
  }
  // A standby picks among all active replicas (its own index is not among them: the rotation
  // below would pin it to one, and a fault there stalled it for good).
  if (replica.isStandby) return replica.prng.int(replica.replicaCount);
  const others = replica.replicaCount - 1;
  if (others === 0) return replica.replica;
  const target = (replica.replica + 1 + replica.prng.int(others)) % replica.replicaCount;
  assert(target < replica.replicaCount && target !== replica.replica, "an active replica never asks itself");
  return target;
}

function requestMissingHeaders(replica: Replica): void {
  const target = repairTarget(replica);
  if (target === replica.replica) return;
  assert(target < replica.replicaCount);
  // Lagging behind the cluster's commit: ask for the headers beyond our head.
  if (replica.commitMax > replica.op && replica.status === "normal") {
    sendGetHeaders(replica, target, replica.op + 1, Math.min(replica.commitMax, replica.opPrepareMax));
    return;
  }
  // Headers missing, or not chaining to the head (stale ones from an older view), below the
  // canonical part of the log.
  const canonicalFrom = replica.canonicalFrom();
  assert(canonicalFrom > replica.commitMin && canonicalFrom <= replica.op + 1, "canonical part out of range");
  if (canonicalFrom > replica.commitMin + 1) {
    sendGetHeaders(replica, target, replica.commitMin + 1, canonicalFrom - 1);
  }
}

function requestMissingPrepares(replica: Replica): void {
  // The loop is bounded by the WAL: the head is at most one wrap above what we executed.
  assert(replica.op - replica.commitMin <= replica.journal.slotCount, "the head is more than a wrap ahead");
  if (replica.journal.dirtyCount === 0) return; // nothing to ask for (most repair timeouts)
  let requested = 0;
  for (let op = replica.commitMin + 1; op <= replica.op && requested < prepareRequestsPerTick; op++) {
    if (!replica.journal.isDirty(op)) continue;
    const header = replica.journal.header(op);
    if (header === null || replica.prepareCache.holds(op, header)) continue;
    const target = repairTarget(replica);
    if (target === replica.replica) return;
    assert(op > replica.commitMin && op <= replica.op && replica.journal.isDirty(op));
    assert(header.op === op && requested < prepareRequestsPerTick);
    const message = newMessage(headerSize);
    const request = new GetPrepareHeader(message, 0);
    replica.frame(request, Command.get_prepare, headerSize);
    request.op = op;
    request.prepare_checksum = header.checksum;
    setChecksums(message, 0, headerSize);
    replica.sendToReplica(target, message);
    requested++;
  }
}

function sendGetHeaders(replica: Replica, target: number, opMin: number, opMax: number): void {
  if (opMin > opMax) return;
  assert(target !== replica.replica && opMin > replica.commitMin && opMax <= replica.opPrepareMax);
  assert(opMax - opMin < replica.journal.slotCount, "a header range wider than the WAL");
  const message = newMessage(headerSize);
  const request = new GetHeadersHeader(message, 0);
  replica.frame(request, Command.get_headers, headerSize);
  request.op_min = opMin;
  request.op_max = opMax;
  setChecksums(message, 0, headerSize);
  replica.sendToReplica(target, message);
}

function ignoreGetHeaders(replica: Replica, request: GetHeadersHeader): string | null {
  if (request.replica === replica.replica) return "from ourselves";
  if (request.view < replica.view) return "older view";
  if (request.view > replica.view) return "newer view";
  if (replica.status !== "normal" && replica.status !== "view_change") return `status ${replica.status}`;
  if (request.op_min > request.op_max) return "empty range";
  return null;
}

/**
 * Serves headers in [op_min, op_max], newest first, up to a message. To a backup, only those we can
 * vouch for (it installs them as they come, even beyond its head, onHeaders): in normal status,
 * those chained by hash to our head (canonical in our view) and those we executed; in
 * view_change, only executed ones (committed, hence canonical in every view). To the primary of
 * our view, in view_change, every header we hold up to our head, as TigerBeetle's on_get_headers
 * (copy_latest_headers_between) does: it checks each against its own hash chain (onHeaders). A
 * new primary may lack committed ops below the join_views' suffixes that its one reachable peer
 * holds but never executed (say, waiting for grid blocks after a restart); served only executed
 * ops, it never started its view (test/replica/get_headers_scenario.test.ts).
 */
export function onGetHeaders(replica: Replica, message: Uint8Array): void {
  const request = new GetHeadersHeader(message, 0);
  const reason = ignoreGetHeaders(replica, request);
  if (reason !== null) return replica.ignored("get_headers", reason);
  assert(request.view === replica.view && (replica.status === "normal" || replica.status === "view_change"));
  const toPrimary = replica.status === "view_change" && request.replica === replica.primaryOf(replica.view);
  const canonicalFrom = replica.status === "normal" ? replica.canonicalFrom() : replica.commitMin + 1;
  const opMax = Math.min(request.op_max, replica.status === "normal" || toPrimary ? replica.op : replica.commitMin);
  const countMax = Math.floor(replica.config.messageBodySizeMax / headerSize);
  assert(countMax >= 1 && canonicalFrom <= replica.op + 1);
  assert(opMax <= replica.op && canonicalFrom > replica.commitMin, "serving headers beyond our head");
  const headers: Uint8Array[] = [];
  for (let op = opMax; op >= request.op_min && headers.length < countMax; op--) {
    if (op > replica.commitMin && op < canonicalFrom) continue; // not vouched for
    const header = replica.headerAt(op);
    if (header !== null) headers.push(header.bytes());
  }
  if (headers.length === 0) return replica.ignored("get_headers", "no header we can vouch for");
  assert(headers.length <= countMax);
  const reply = new Uint8Array(headerSize * (1 + headers.length));
  assert(reply.length <= replica.config.messageSizeMax, "a headers reply beyond a message");
  headers.forEach((header, i) => reply.set(header, headerSize * (1 + i)));
  replica.frame(new Header(reply, 0), Command.headers, reply.length);
  setChecksums(reply, 0, reply.length);
  replica.sendToReplica(request.replica, reply);
}

function ignoreHeaders(replica: Replica, frame: Header): string | null {
  if (frame.view < replica.view) return "older view";
  if (frame.view > replica.view) return "newer view";
  if (!repairing(replica)) return `not repairing (status ${replica.status})`;
  return null;
}

/**
 * Installs headers from a peer in our view. A backup gets only headers the peer vouched for
 * (onGetHeaders): they are canonical, so each replaces a missing or different header of ours — a
 * stale one may carry a higher, aborted view. The primary may also get headers nobody vouched for
 * (a peer's log in view_change): as TigerBeetle's repair_header (repair_header_would_connect_
 * hash_chain), it installs one only as the next link down of the chain that hangs off its head —
 * its checksum is the parent of the lowest header of that chain — so it installs only its own
 * log's prepares, never a stale one (and a primary never installs beyond its head).
 */
export function onHeaders(replica: Replica, message: Uint8Array): void {
  const frameHeader = new Header(message, 0);
  const reason = ignoreHeaders(replica, frameHeader);
  if (reason !== null) return replica.ignored("headers", reason);
  assert(frameHeader.view === replica.view && repairing(replica));
  assert(frameHeader.size === message.length && (frameHeader.size - headerSize) % headerSize === 0);
  let installed = 0;
  // The primary's chain down from its head: ops chainFrom ..= op (the headers come newest first).
  let chainFrom = replica.isPrimary ? replica.canonicalFrom() : 0;
  for (let offset = headerSize; offset < frameHeader.size; offset += headerSize) {
    if (!verifyHeaderChecksum(message, offset)) continue;
    const header = new PrepareHeader(message, offset);
    if (header.command !== Command.prepare || header.cluster !== replica.cluster) continue;
    const op = header.op;
    if (op <= replica.commitMin || op > replica.opPrepareMax) continue;
    // Beyond our head only what the cluster committed is certain (a backup catching up).
    if (op > replica.op && (op > replica.commitMax || replica.status !== "normal" || replica.isPrimary)) continue;
    const existing = replica.journal.header(op);
    if (existing !== null && existing.checksum === header.checksum) continue;
    if (!replica.installable(op)) continue;
    if (replica.isPrimary && !linksOntoChain(replica, header, chainFrom)) continue;
    assert(op > replica.commitMin && op <= replica.opPrepareMax);
    replica.journal.setHeader(message.slice(offset, offset + headerSize));
    if (replica.isPrimary) chainFrom = replica.canonicalFrom();
    assert(!replica.isPrimary || chainFrom <= op, "a primary installed a header off its chain");
    assert(replica.journal.header(op)?.checksum === header.checksum, "the installed header is not held");
    if (op > replica.op) replica.advanceHead(op);
    assert(op <= replica.op, "an installed header beyond our head");
    installed += 1;
  }
  if (installed > 0) {
    replica.probe("wal_header_repaired");
    replica.notice("repair_headers", () => `repaired ${installed} WAL header(s) from replica ${frameHeader.replica}`);
    requestMissingPrepares(replica);
  }
  else replica.ignored("headers", "nothing to install");
}

/**
 * Whether `header` is the next link down of the primary's chain, ops chainFrom ..= op: its
 * checksum is the parent of the chain's lowest header (TigerBeetle's
 * repair_header_would_connect_hash_chain). Never the head itself: that is not repaired.
 */
function linksOntoChain(replica: Replica, header: PrepareHeader, chainFrom: number): boolean {
  assert(replica.isPrimary && chainFrom > replica.commitMin);
  // While a state sync installs its checkpoint, ops above commit_min may be outside our log
  // (headerAt); TigerBeetle's repair_header repairs nothing then either.
  if (replica.syncing !== null) return false;
  if (chainFrom > replica.op || header.op !== chainFrom - 1) return false;
  const above = replica.headerAt(chainFrom);
  assert(above !== null, "the chain from the head has a header at each op");
  return above.parent === header.checksum;
}

/** Serves a prepare we hold intact with exactly this checksum; otherwise stays silent. */
export function onGetPrepare(replica: Replica, message: Uint8Array): void {
  const request = new GetPrepareHeader(message, 0);
  const from = request.replica; // read now: the message buffer is not ours after we return
  if (from === replica.replica) return replica.ignored("get_prepare", "from ourselves");
  assert(message.length === headerSize && from < replica.replicaCount + replica.standbyCount);
  const op = request.op;
  const checksum = request.prepare_checksum;
  const cached = replica.prepareCache.get(op, checksum);
  if (cached !== null) return replica.sendToReplica(from, cached);
  // The request names the prepare by checksum, so any intact copy of it on our disk is that prepare,
  // whatever our log says of the slot now (a faulty or stale header, a newer header in view_change,
  // or the uncertain head of recovering_head, which "can still help others with WAL repair",
  // spec/vsr.md §3): TigerBeetle's on_get_prepare serves by the slot's prepare checksum the same
  // way. A new primary may need the one copy left, on a replica that cannot join its view. Silence
  // when we hold no intact copy: a missing prepare is never answered.
  if (!replica.journal.canReadPrepare(op, checksum)) return replica.ignored("get_prepare", "no intact copy of that prepare");
  // Busy: the peer asks again on its repair timeout.
  if (!replica.journal.canQueuePeerRead) return replica.ignored("get_prepare", "journal reads busy");
  replica.journal.readPrepare(op, checksum, (prepare) => {
    if (prepare === null) return replica.ignored("get_prepare", "our copy failed to read");
    const served = new PrepareHeader(prepare, 0);
    assert(served.checksum === checksum, "served a prepare with another checksum");
    assert(served.op === op && served.size === prepare.length, "served a prepare of another op");
    replica.sendToReplica(from, prepare);
  });
}
