// The storage checker (DESIGN.md "Data file and storage engine"; TigerBeetle's storage_checker):
// at every checkpoint a replica makes durable or installs by state sync, the grid blocks it holds
// acquired, but for those its releases name (the previous checkpoint's, which a replica that
// synced never fetched), must be exactly those every other replica held at that checkpoint, byte
// for byte, at the same addresses. Block addresses and contents are a function of the op sequence alone, so a
// difference is a determinism bug (in the grid, the free set or a state machine's canonical pages)
// even when the checkpoint ids happen to agree.
//
// Comparing whole blocks would cost a few MB per checkpoint per replica; comparing each block's
// header checksum is as strong (it covers the header, whose body checksum covers the body) once
// the header checksum itself is verified, which this checker does on the pristine bytes.
import { checksum } from "../../core/checksum.js";
import { headerSize } from "../../core/config.js";
import { verifyHeaderChecksum } from "../../core/header.js";
import type { Grid } from "../../grid/grid.js";
import { Zone } from "../../io/storage.js";
import type { StorageSim } from "../world/storage_sim.js";
import { CorrectnessError } from "./state_checker.js";

export interface GridDigest {
  readonly blocks: number;
  readonly digest: bigint;
}

export class StorageChecker {
  /** The digest of the acquired grid at each checkpoint op, as the first replica there had it. */
  private readonly digests = new Map<number, { replica: number; grid: GridDigest }>();

  /** Checks `grid` (just durable or installed at checkpoint `op`) against the other replicas. */
  check(replica: number, op: number, grid: Grid, storage: StorageSim): void {
    const digest = digestGrid(replica, grid, storage);
    const known = this.digests.get(op);
    if (known === undefined) {
      this.digests.set(op, { replica, grid: digest });
      return;
    }
    if (known.grid.blocks !== digest.blocks || known.grid.digest !== digest.digest) {
      throw new CorrectnessError(`storage checker: at checkpoint ${op}, replica ${replica} holds ${digest.blocks} grid ` +
        `blocks (digest ${digest.digest.toString(16)}), replica ${known.replica} held ${known.grid.blocks} ` +
        `(digest ${known.grid.digest.toString(16)})`);
    }
  }
}

/** (address, header checksum) of every acquired block, hashed in address order. */
function digestGrid(replica: number, grid: Grid, storage: StorageSim): GridDigest {
  const blockSize = grid.config.blockSize;
  const header = new Uint8Array(Math.max(headerSize, 4096));
  const entries: number[] = [];
  const checksums: Uint8Array[] = [];
  grid.freeSet.forEachHeld((address) => {
    storage.readPristine(Zone.grid, (address - 1) * blockSize, header);
    if (!verifyHeaderChecksum(header, 0)) {
      throw new CorrectnessError(`storage checker: replica ${replica}: acquired grid block ${address} has a bad header`);
    }
    entries.push(address);
    checksums.push(header.slice(0, 16));
  });
  const record = new Uint8Array(entries.length * 24);
  const view = new DataView(record.buffer);
  entries.forEach((address, i) => {
    view.setBigUint64(i * 24, BigInt(address), true);
    record.set(checksums[i]!, i * 24 + 8);
  });
  return { blocks: entries.length, digest: checksum(record) };
}
