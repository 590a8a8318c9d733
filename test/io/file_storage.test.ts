// FileStorage (the portable backend) on a real file: a read that fails with EIO — a latent sector
// error of the disk, injected here through the positional-read seam — is narrowed to the sectors
// that fail on their own, which read back as zeros (so no checksum accepts them) and are reported.
import { mkdtempSync, read, rmSync, type PathLike } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { sectorSize, testConfig } from "../../src/core/config.js";
import { dataFileSize } from "../../src/cli/replica_host.js";
import { FileStorage, type PositionalRead } from "../../src/io/data_file/file_storage.js";
import { Zone } from "../../src/io/storage.js";

const directory = mkdtempSync(join(tmpdir(), "scarab-file-storage-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** node:fs's read, except that any read covering a sector in `bad` (absolute file offsets) fails with EIO. */
function failing(bad: readonly number[]): { read: PositionalRead; calls: number[] } {
  const calls: number[] = [];
  const readWithErrors: PositionalRead = (fd, buffer, offset, length, position, callback) => {
    calls.push(length);
    if (bad.some((sector) => sector >= position && sector < position + length)) {
      const error: NodeJS.ErrnoException = Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
      return setImmediate(() => callback(error, 0));
    }
    read(fd, buffer, offset, length, position, (error, bytesRead) => callback(error, bytesRead));
  };
  return { read: readWithErrors, calls };
}

function storageAt(path: PathLike, create: boolean, options: ConstructorParameters<typeof FileStorage>[2] = {}): FileStorage {
  return new FileStorage(path, testConfig, { ...options, ...(create && { create: true, sizeBytes: dataFileSize(testConfig) }) });
}

function io(run: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => run(resolve));
}

describe("FileStorage", () => {
  test("an EIO read is narrowed to the failing sectors: they read as zeros and are reported, the rest is intact", async () => {
    const path = join(directory, "eio.scarab");
    const writer = storageAt(path, true);
    const data = new Uint8Array(4 * sectorSize).map((_, i) => (i % 251) + 1);
    await io((done) => writer.write(Zone.grid, 0, data, done));
    await io((done) => writer.close(done));

    const gridOffset = testConfig.zones.gridOffset;
    const reports: [number, number][] = [];
    const injected = failing([gridOffset + 2 * sectorSize]);
    const reader = storageAt(path, false, { read: injected.read, onUnreadable: (offset, sectors) => reports.push([offset, sectors]) });
    const buffer = new Uint8Array(4 * sectorSize);
    await io((done) => reader.read(Zone.grid, 0, buffer, done));
    expect(injected.calls).toEqual([4 * sectorSize, sectorSize, sectorSize, sectorSize, sectorSize]);
    expect(buffer.subarray(0, 2 * sectorSize)).toEqual(data.subarray(0, 2 * sectorSize));
    expect(buffer.subarray(2 * sectorSize, 3 * sectorSize).every((byte) => byte === 0)).toBe(true);
    expect(buffer.subarray(3 * sectorSize)).toEqual(data.subarray(3 * sectorSize));
    expect(reports).toEqual([[gridOffset + 2 * sectorSize, 1]]);
    expect(reader.sectorsUnreadable).toBe(1);
    await io((done) => reader.close(done));
  });

  test("other read errors are not bad sectors: they are thrown", async () => {
    const path = join(directory, "ebadf.scarab");
    await io((done) => storageAt(path, true).close(done));
    const thrown: unknown[] = [];
    const readWithError: PositionalRead = (_fd, _buffer, _offset, _length, _position, callback) =>
      callback(Object.assign(new Error("EBADF"), { code: "EBADF" }), 0);
    const reader = storageAt(path, false, { read: (...args) => {
      try { readWithError(...args); } catch (error) { thrown.push(error); }
    } });
    reader.read(Zone.grid, 0, new Uint8Array(sectorSize), () => {});
    expect(thrown).toEqual([expect.objectContaining({ code: "EBADF" })]);
  });
});
