// The choice of the data file's backend (src/io/data_file/open_storage.ts): io_uring + O_DIRECT
// where the addon is built and both work on the file, else the portable node:fs backend with the
// reason, which the host logs in one line; SCARAB_IO forces either.
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { testConfig } from "../../src/core/config.js";
import { nativeAddon, nativeAddonStatus, type NativeAddon } from "../../src/core/native_addon.js";
import { dataFileSize } from "../../src/cli/replica_host.js";
import { openDataFileStorage, StorageSelectionError, storageLogLine, type OpenedStorage, type OpenStorageOptions }
  from "../../src/io/data_file/open_storage.js";
import { uringAddon } from "../../src/io/data_file/uring_ring.js";

const built = uringAddon(nativeAddon) !== null;
const skipReason = built ? "" : ` (skipped: native addon without io_uring: ${nativeAddonStatus})`;
const directory = mkdtempSync(join(process.cwd(), ".open-storage-test-"));
const shmDirectory = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/scarab-open-storage-") : null;
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
  if (shmDirectory !== null) rmSync(shmDirectory, { recursive: true, force: true });
});

let files = 0;
function open(options: OpenStorageOptions, where = directory): OpenedStorage & { path: string } {
  const path = join(where, `${files++}.scarab`);
  const opened = openDataFileStorage(path, testConfig, { create: true, sizeBytes: dataFileSize(testConfig), env: {}, ...options });
  return { ...opened, path };
}

function close(opened: OpenedStorage): Promise<void> {
  return new Promise((resolve) => opened.storage.close(resolve));
}

/** An addon whose io_uring_setup fails as under a container's seccomp profile. */
function refusingAddon(code: string): NativeAddon {
  const refuse = (): never => {
    throw Object.assign(new Error(`io_uring_setup: ${code} (Operation not permitted)`), { code, syscall: "io_uring_setup" });
  };
  const unused = (): never => { throw new Error("unused"); };
  return { aegisMac: unused, aesni: () => false, uringCreate: refuse, uringRead: unused, uringWrite: unused,
    uringFsync: unused, uringSubmit: unused, uringWait: unused, uringClose: unused, uringWaitMethod: unused };
}

describe("openDataFileStorage", () => {
  test("SCARAB_IO=portable forces the portable backend, and says so", async () => {
    const opened = open({ env: { SCARAB_IO: "portable" } });
    expect(opened.backend).toBe("portable");
    expect(storageLogLine(opened)).toBe("storage: portable node:fs (SCARAB_IO=portable)");
    await close(opened);
  });

  test("without the addon: portable, with the reason; the file is created all the same", async () => {
    const opened = open({ addon: null });
    expect(opened.backend).toBe("portable");
    expect(storageLogLine(opened)).toMatch(/^storage: portable node:fs \(io_uring unavailable: native addon .+\)$/);
    expect(statSync(opened.path).size).toBe(dataFileSize(testConfig));
    await close(opened);
  });

  test("where the kernel refuses io_uring (EPERM/ENOSYS under seccomp): portable, naming the syscall and errno", async () => {
    for (const code of ["EPERM", "ENOSYS"]) {
      const opened = open({ addon: refusingAddon(code) });
      expect(opened.backend).toBe("portable");
      expect(opened.reason).toContain(`io_uring unavailable: io_uring_setup: ${code}`);
      await close(opened);
    }
  });

  test("SCARAB_IO=io_uring makes io_uring's absence an error; other values are refused", () => {
    expect(() => open({ addon: null, env: { SCARAB_IO: "io_uring" } })).toThrow(StorageSelectionError);
    expect(() => open({ env: { SCARAB_IO: "fast" } })).toThrow(/SCARAB_IO=fast: expected io_uring, portable or auto/);
  });

  test("never creates over an existing file, whichever backend", () => {
    const { path, storage } = open({ env: { SCARAB_IO: "portable" } });
    storage.close();
    expect(() => openDataFileStorage(path, testConfig, { create: true, sizeBytes: dataFileSize(testConfig), env: {} }))
      .toThrow(expect.objectContaining({ code: "EEXIST" }));
  });

  test.skipIf(!built)(`with the addon built, on a disk filesystem: io_uring + O_DIRECT${skipReason}`, async () => {
    const opened = open({});
    expect(opened.backend).toBe("io_uring");
    expect(storageLogLine(opened)).toBe("storage: io_uring + O_DIRECT");
    await close(opened);
    const reopened = openDataFileStorage(opened.path, testConfig, { env: {} });
    expect(reopened.backend).toBe("io_uring");
    await close(reopened);
  });

  test.skipIf(!built || shmDirectory === null)(`on tmpfs (/dev/shm): portable where tmpfs refuses O_DIRECT (EINVAL, kernels before 6.6)${skipReason}`, async () => {
    const opened = open({}, shmDirectory!);
    if (tmpfsTakesODirect(shmDirectory!)) {
      expect(opened.backend).toBe("io_uring"); // tmpfs has taken O_DIRECT since Linux 6.6
    } else {
      expect(opened.backend).toBe("portable");
      expect(opened.reason).toBe("io_uring unavailable: O_DIRECT refused by the filesystem (EINVAL)");
    }
    await close(opened);
  });
});

function tmpfsTakesODirect(where: string): boolean {
  const path = join(where, "o_direct-probe");
  try {
    closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(path, { force: true });
  }
}
