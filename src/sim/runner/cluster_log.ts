// Replica state-transition lines (spec/vopr.md §13.2) and the run's trace hash.
//
//   RR E L SSS…  <view> <checkpoint/commits> <journal> <faults> <wal> <sync> <releases> <grid> [<pipeline>]
//
// The line reads the replica through LoggedReplica, a structural view of the fields the replica
// exposes read-only; a field it does not have (yet) prints as `?` in its column, so the columns
// stay aligned while the replica grows.
import { checksum } from "../../core/checksum.js";
import type { ClusterEvent } from "../world/cluster.js";

export interface LoggedReplica {
  readonly status: string;
  readonly view: number;
  readonly op: number;
  readonly commitMin: number;
  readonly commitMax: number;
  readonly opCheckpoint: number;
  readonly isPrimary: boolean;
  readonly isStandby: boolean;
  readonly release: number;
  readonly pipeline: { readonly length: number };
  readonly requestQueue: { readonly length: number };
  readonly config: { readonly pipelinePrepareQueueMax: number; readonly clientsMax: number };
  readonly journal?: { readonly faultyCount?: number; readonly dirtyCount?: number };
  /** Non-null while state-syncing (vsr.md §8). */
  readonly syncing?: unknown;
}

/** §13.2 E: `!` crash, `^` recover, `$` sync, space commit/status/view, `[`/`]` checkpoint. */
export function eventChar(event: ClusterEvent): string {
  switch (event) {
    case "crash": return "!";
    case "open": return "^";
    case "checkpoint_start": return "[";
    case "checkpoint_done": return "]";
    case "sync_start":
    case "sync_cancel":
    case "sync_done": return "$";
    // Not in §13.2 (TigerBeetle does not pause VMs in its log): Scarab marks them z/Z.
    case "pause": return "z";
    case "unpause": return "Z";
    default: return " ";
  }
}

const statusChars: Readonly<Record<string, string>> = {
  normal: ".", view_change: "v", recovering: "r", recovering_head: "h",
};

/** One §13.2 line. `replica` is null while down. */
export function replicaLine(index: number, nodeCount: number, event: ClusterEvent, replica: LoggedReplica | null): string {
  const syncing = replica !== null && replica.syncing !== null && replica.syncing !== undefined;
  const role = replica === null ? "#" : syncing ? "~" : replica.isStandby ? "|" : replica.isPrimary ? "/" : "\\";
  const status = replica === null ? "#" : statusChars[replica.status] ?? "?";
  let columns = "";
  for (let node = 0; node < nodeCount; node++) columns += node === index ? status : " ";
  const head = `${pad(index, 2)} ${eventChar(event)} ${role} ${columns}`;
  if (replica === null) return head;
  return `${head}  ${replicaFields(replica)}`;
}

function replicaFields(r: LoggedReplica): string {
  const journal = r.journal;
  const patch = r.release & 0xff;
  let line = `${pad(r.view, 4)}V ${pad(r.opCheckpoint, 3)}/${padU(r.commitMin, 3)}/${padU(r.commitMax, 3)}C` +
    // The journal's op range: its head is `op`; its tail is not exposed yet.
    ` ${pad(null, 3)}:${padU(r.op, 3)}Jo` +
    ` ${pad(journal?.faultyCount, 2)}/${padU(journal?.dirtyCount, 2)}J!` +
    ` ${pad(null, 3)}:${padU(null, 3)}Wo <${padU(null, 3)}:${padU(null, 3)}> v${patch}:${patch}` +
    ` ${pad(null, 5)}Ga ${pad(null, 2)}G! ${pad(null, 3)}G?`;
  if (r.isPrimary && r.status === "normal") {
    line += `  ${pad(r.pipeline.length, 2)}/${r.config.pipelinePrepareQueueMax}Pp` +
      ` ${pad(r.requestQueue.length, 2)}/${r.config.clientsMax}Rq`;
  }
  return line;
}

function pad(value: number | null | undefined, width: number): string {
  return (typeof value === "number" ? String(value) : "?").padStart(width, " ");
}

function padU(value: number | null | undefined, width: number): string {
  return (typeof value === "number" ? String(value) : "?").padStart(width, "_");
}

/**
 * A running digest of a run: every log line and every delivered message's header checksum go
 * into a 4 KiB buffer; a full buffer is folded into its first 16 bytes with checksum() and
 * filling resumes after them. Two runs of one seed must end with the same digest.
 */
export class TraceHash {
  private readonly buffer = new Uint8Array(4096);
  private readonly view = new DataView(this.buffer.buffer);
  private length = 16;
  private readonly encoder = new TextEncoder();

  /** bytes[start, end) */
  bytes(bytes: Uint8Array, start: number, end: number): void {
    const buffer = this.buffer;
    for (let at = start; at < end;) {
      const take = Math.min(end - at, buffer.length - this.length);
      // Most calls take a delivered message's 16 checksum bytes: a loop, not a view per call.
      if (take <= 32) for (let i = 0; i < take; i++) buffer[this.length + i] = bytes[at + i]!;
      else buffer.set(bytes.subarray(at, at + take), this.length);
      this.length += take;
      at += take;
      if (this.length === this.buffer.length) this.fold();
    }
  }

  u32(value: number): void {
    if (this.length + 4 > this.buffer.length) this.fold();
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
  }

  line(text: string): void {
    const bytes = this.encoder.encode(text);
    this.bytes(bytes, 0, bytes.length);
    this.u32(0x0a);
  }

  get digest(): string {
    const tail = this.buffer.slice(0, this.length);
    return checksum(tail).toString(16).padStart(32, "0");
  }

  private fold(): void {
    const sum = checksum(this.buffer.subarray(0, this.length));
    this.view.setBigUint64(0, sum & 0xffff_ffff_ffff_ffffn, true);
    this.view.setBigUint64(8, sum >> 64n, true);
    this.buffer.fill(0, 16);
    this.length = 16;
  }
}
