// Read-only access to a stopped replica's data file for `scarab inspect`, and the superblock part
// of the inspection (spec/vsr.md §10, §12). The file is opened with O_RDONLY and read with
// node:fs synchronously; the bytes are then handed to the replica's own pure decoders
// (superblock/layout.ts) and open-quorum rule (superblock/quorum.ts), so the inspector sees
// exactly what the replica would see.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { DataFileLockError, lockDataFile, type DataFileLock } from "../io/data_file_lock.js";
import { checksumMatches } from "../core/checksum.js";
import { productionConfig, testConfig, type Config } from "../core/config.js";
import { opOf } from "../replica/journal/prepare_headers.js";
import {
  type SuperBlockState, SuperBlockField, decodeSuperBlock, viewHeadersCountOffset,
} from "../replica/superblock/layout.js";
import { type SuperblockCopy, type SuperblockOpenResult, superblockCopies, superblockOpen } from "../replica/superblock/quorum.js";
import { replicaIndexOf } from "../replica/superblock/superblock.js";
import { allZero, readU128 } from "../core/bytes.js";

/** A problem with the file or the request, reported as one line. Exit code 2 (cannot inspect), or 1 (damaged). */
export class InspectError extends Error {
  override name = "InspectError";
  constructor(message: string, readonly exitCode: 1 | 2 = 2) {
    super(message);
  }
}

/** A data file opened read-only. Reads past the end of the file return zeros (like FileStorage). */
export class DataFile {
  private constructor(private readonly fd: number, readonly path: string, readonly size: number,
    private readonly lock: DataFileLock) {}

  /** Opens read-only under the data file's lock: a file a replica is running on is not inspected. */
  static open(path: string): DataFile {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (error) {
      throw new InspectError(fsErrorText(path, error as NodeJS.ErrnoException));
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw new InspectError(`${path} is not a regular file`);
    }
    let lock: DataFileLock;
    try {
      lock = lockDataFile(path);
    } catch (error) {
      closeSync(fd);
      if (error instanceof DataFileLockError) throw new InspectError(`${error.message}: stop it before inspecting`);
      throw error;
    }
    return new DataFile(fd, path, stat.size, lock);
  }

  read(offset: number, length: number): Uint8Array {
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length && offset + done < this.size) {
      const count = readSync(this.fd, buffer, done, length - done, offset + done);
      if (count === 0) break;
      done += count;
    }
    return buffer;
  }

  close(): void {
    closeSync(this.fd);
    this.lock.release();
  }
}

function fsErrorText(path: string, error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return `${path} does not exist`;
  if (error.code === "EACCES" || error.code === "EPERM") return `${path}: permission denied`;
  if (error.code === "EISDIR") return `${path} is a directory, not a data file`;
  return `cannot open ${path}: ${error.code ?? error.message}`;
}

export function configName(config: Config): string {
  return config === testConfig ? "development" : "production";
}

// ---- superblock copies ----

export type CopyStatus = "valid" | "zeroed" | "bad checksum" | "other cluster" | "malformed";

export interface CopyReport {
  /** The slot (0–3) the copy was read from. */
  readonly slot: number;
  /** Absolute file offset of the copy. */
  readonly offset: number;
  readonly status: CopyStatus;
  /** Why the copy is not valid, or a note on a valid one (misdirected). */
  readonly detail: string;
  /** The copy index as stored (not checksummed). */
  readonly copyIndex: number;
  readonly state: SuperBlockState | null;
  /** The cluster of a copy whose checksum holds, even if it is not the expected one. */
  readonly cluster: bigint | null;
}

export interface SuperblockReport {
  readonly config: Config;
  /** The expected cluster: given, or the one most checksummed copies hold. */
  readonly cluster: bigint;
  readonly clusterInferred: boolean;
  readonly copies: readonly CopyReport[];
  readonly open: SuperblockOpenResult;
  /** The state open would choose; null when open would fail. */
  readonly working: SuperBlockState | null;
  /** `working`, else the newest valid copy: the best guess for reading the rest of the file. */
  readonly best: SuperBlockState | null;
  /** The replica index whose replica_id the chosen state holds; null if none in 0..255. */
  readonly replicaIndex: number | null;
}

function copyBytes(file: DataFile, config: Config, slot: number): Uint8Array {
  return file.read(config.zones.superblock.offset + slot * config.superblockCopySize, config.superblockCopySize);
}

function checksumValid(bytes: Uint8Array): boolean {
  return checksumMatches(bytes.subarray(SuperBlockField.version), bytes, SuperBlockField.checksum);
}


function countChecksummedCopies(file: DataFile, config: Config): number {
  let count = 0;
  for (let slot = 0; slot < superblockCopies; slot++) if (checksumValid(copyBytes(file, config, slot))) count += 1;
  return count;
}

/**
 * The layout the file was formatted with must be the one asked for: a copy checksums only under
 * its own copy size, so a wrong --development shows up as no copy verifying under the requested
 * layout while some verify under the other one.
 */
export function checkLayout(file: DataFile, config: Config): void {
  // The development superblock zone is the smaller one: below it, no layout fits.
  if (file.size < testConfig.zones.superblock.size) {
    throw new InspectError(`${file.path} is not a Scarab data file: ${file.size} bytes, smaller than a superblock`);
  }
  if (countChecksummedCopies(file, config) > 0) return;
  const other = config === testConfig ? productionConfig : testConfig;
  if (countChecksummedCopies(file, other) > 0) {
    throw new InspectError(config === testConfig
      ? `${file.path} was formatted without --development; drop --development`
      : `${file.path} was formatted with --development; add --development`);
  }
  throw new InspectError(`${file.path} is not a Scarab data file: none of its 4 superblock copies has a valid checksum`);
}

/** The zones before the grid must all be in the file. */
export function checkNotTruncated(file: DataFile, config: Config): void {
  const end = config.zones.gridOffset;
  if (file.size < end) {
    throw new InspectError(`${file.path} is truncated: ${file.size} bytes, but its ${configName(config)} ` +
      `layout needs ${end} bytes before the grid`, 1);
  }
}

/** Checksummed copies vote: the cluster most of them hold (ties: the first). */
function inferCluster(raws: readonly Uint8Array[]): bigint | null {
  const votes = new Map<bigint, number>();
  for (const bytes of raws) {
    if (!checksumValid(bytes)) continue;
    const cluster = readU128(bytes, SuperBlockField.cluster);
    votes.set(cluster, (votes.get(cluster) ?? 0) + 1);
  }
  let best: bigint | null = null;
  for (const [cluster, count] of votes) if (best === null || count > votes.get(best)!) best = cluster;
  return best;
}

function describeCopy(bytes: Uint8Array, slot: number, config: Config, cluster: bigint): CopyReport {
  const offset = config.zones.superblock.offset + slot * config.superblockCopySize;
  const copyIndex = bytes[SuperBlockField.copy]! | (bytes[SuperBlockField.copy + 1]! << 8);
  const base = { slot, offset, copyIndex, state: null, cluster: null };
  if (allZero(bytes)) return { ...base, status: "zeroed", detail: "all zero (never written, or lost)" };
  if (!checksumValid(bytes)) return { ...base, status: "bad checksum", detail: "bad checksum (torn or corrupt)" };
  const copyCluster = readU128(bytes, SuperBlockField.cluster);
  if (copyCluster !== cluster) {
    return { ...base, cluster: copyCluster, status: "other cluster", detail: `belongs to cluster ${copyCluster}` };
  }
  const decoded = decodeSuperBlock(bytes, config, cluster);
  if (decoded === null) return { ...base, cluster, status: "malformed", detail: malformedReason(bytes, config) };
  const detail = copyIndex === slot ? "" : `misdirected: holds copy ${copyIndex}`;
  return { ...base, cluster, status: "valid", detail, state: decoded.state };
}


function malformedReason(bytes: Uint8Array, config: Config): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(SuperBlockField.version, true);
  if (version !== 1) return `checksum ok, but unknown superblock version ${version}`;
  const viewHeaders = view.getUint32(viewHeadersCountOffset, true);
  if (viewHeaders > config.viewHeadersMax) return `checksum ok, but ${viewHeaders} view headers (max ${config.viewHeadersMax})`;
  return "checksum ok, but a field is invalid (reserved bytes, sequence, checkpoint or view header)";
}

/** What superblockOpen needs of a decoded copy (the same mapping as superblock.ts). */
function quorumCopy(report: CopyReport): SuperblockCopy | null {
  const state = report.state;
  if (state === null) return null;
  const vsr = state.vsr_state;
  return {
    checksum: state.checksum, sequence: state.sequence, parent: state.parent, copy: report.copyIndex,
    view: vsr.view, log_view: vsr.log_view, commit_max: vsr.commit_max,
    checkpoint_op: opOf(vsr.checkpoint.header, 0),
  };
}


/** Reads the 4 copies, says what each holds, and which state the 2-of-4 open quorum would pick. */
export function inspectSuperblock(file: DataFile, config: Config, clusterGiven: bigint | null): SuperblockReport {
  const raws = Array.from({ length: superblockCopies }, (_, slot) => copyBytes(file, config, slot));
  const inferred = inferCluster(raws);
  const cluster = clusterGiven ?? inferred ?? 0n;
  const copies = raws.map((bytes, slot) => describeCopy(bytes, slot, config, cluster));
  const open = superblockOpen(copies.map(quorumCopy));
  const working = open.kind === "working"
    ? copies.find((copy) => copy.state?.checksum === open.header.checksum)!.state
    : null;
  const newest = copies.reduce<SuperBlockState | null>((best, copy) =>
    copy.state !== null && (best === null || copy.state.sequence > best.sequence) ? copy.state : best, null);
  const best = working ?? newest;
  return {
    config, cluster, clusterInferred: clusterGiven === null, copies, open, working, best,
    replicaIndex: best === null ? null : replicaIndexOf(cluster, best.vsr_state.replica_id),
  };
}
