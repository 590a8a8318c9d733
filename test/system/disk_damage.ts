// Disk damage for the multi-process fault test, as an operator could cause it (or a failing disk
// would): random bytes written over parts of a stopped replica's data file. Each kind stays within
// what one replica can repair from its peers or from its own redundancy:
// - wal: a few prepares and one redundant-header sector (peers hold every committed prepare);
// - superblock: two of the four copies (an open needs two; the rest are rewritten);
// - grid: the headers of some blocks (fetched again by address and checksum from peers).
// The --development layout (testConfig) is what `scarab format --development` wrote.
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { testConfig } from "../../src/core/config.js";
import type { Random } from "./random.js";

export type DamageKind = "wal" | "superblock" | "grid";

/** What was overwritten, for the progress line. */
export function damageDataFile(path: string, kind: DamageKind, random: Random): string {
  const fd = openSync(path, "r+");
  try {
    const zones = testConfig.zones;
    const spots: string[] = [];
    const scribble = (offset: number, length: number, what: string): void => {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = random.int(0, 255);
      writeSync(fd, bytes, 0, length, offset);
      spots.push(what);
    };
    if (kind === "wal") {
      const slots = testConfig.journalSlotCount;
      for (const slot of random.shuffle(Array.from({ length: slots }, (_, i) => i)).slice(0, 3)) {
        scribble(zones.walPrepares.offset + slot * testConfig.messageSizeMax, 512, `prepare slot ${slot}`);
      }
      const sector = random.int(0, zones.walHeaders.size / 4096 - 1);
      scribble(zones.walHeaders.offset + sector * 4096 + random.int(0, 15) * 256, 256, `header sector ${sector}`);
    } else if (kind === "superblock") {
      for (const copy of random.shuffle([0, 1, 2, 3]).slice(0, 2)) {
        scribble(zones.superblock.offset + copy * testConfig.superblockCopySize + random.int(0, 3) * 1024, 1024, `copy ${copy}`);
      }
    } else {
      const blocks = Math.floor((fstatSync(fd).size - zones.gridOffset) / testConfig.blockSize);
      const candidates = Array.from({ length: Math.min(blocks, 2048) }, (_, i) => i + 1);
      for (const address of random.shuffle(candidates).slice(0, 24)) {
        scribble(zones.gridOffset + (address - 1) * testConfig.blockSize, 128, `block ${address}`);
      }
    }
    return spots.join(", ");
  } finally {
    closeSync(fd);
  }
}
