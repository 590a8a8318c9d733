// Formatting a fresh WAL (spec/vsr.md §11.1): every slot of both rings holds the reserved header
// of its slot (operation reserved, op = slot), except slot 0, which holds the root prepare (op 0).
import { assert } from "../../core/assert.js";
import { headerSize, sectorSize } from "../../core/config.js";
import { type Storage, Zone } from "../../io/storage.js";
import { rootPrepare } from "./prepare_headers.js";
import type { JournalSlots } from "./slots.js";

export interface FormatContext {
  readonly storage: Storage;
  readonly slots: JournalSlots;
  readonly messageSizeMax: number;
  /** Prepare writes in flight at a time. */
  readonly iopsWriteMax: number;
  readonly sectorBuffers: readonly Uint8Array[];
}

/** Sets the in-memory state of a fresh WAL: clean slots, the root prepare in slot 0. */
export function initializeFormatted(slots: JournalSlots): void {
  assert(slots.dirty.count === 0 && slots.faulty.count === 0, "format: journal not fresh");
  slots.headers.set(slots.reserved);
  slots.headers.set(rootPrepare(slots.cluster), 0);
  slots.headersVersion += 1;
  slots.redundant.set(slots.headers);
  slots.recordPrepare(0, slots.headers, 0);
  slots.landed.set(0);
  slots.assertAll();
}

/** Writes the prepare ring (one sector per slot), then every redundant-header sector. */
export function writeFormatted(context: FormatContext, callback: () => void): void {
  const { storage, slots, messageSizeMax, iopsWriteMax, sectorBuffers } = context;
  const buffers: Uint8Array[] = [];
  for (let index = 0; index < iopsWriteMax; index++) buffers.push(new Uint8Array(sectorSize));
  let slotNext = 0;
  let slotsDone = 0;
  let sectorNext = 0;

  const writeSectors = (): void => {
    if (sectorNext === slots.sectorCount) {
      callback();
      return;
    }
    const sector = sectorNext;
    sectorNext += 1;
    slots.snapshotSector(sector, sectorBuffers[sector]!);
    storage.write(Zone.wal_headers, sector * sectorSize, sectorBuffers[sector]!, writeSectors);
  };
  const writeNextPrepare = (buffer: Uint8Array): void => {
    if (slotNext === slots.slotCount) return;
    const slot = slotNext;
    slotNext += 1;
    // The header of the slot, then zero padding to the sector.
    buffer.fill(0);
    buffer.set(slots.headers.subarray(slot * headerSize, (slot + 1) * headerSize), 0);
    storage.write(Zone.wal_prepares, slot * messageSizeMax, buffer, () => {
      slotsDone += 1;
      if (slotsDone === slots.slotCount) writeSectors();
      else writeNextPrepare(buffer);
    });
  };
  for (const buffer of buffers) writeNextPrepare(buffer);
}
