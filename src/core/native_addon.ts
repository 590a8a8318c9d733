// Loads the optional native addon (native/, built by node-gyp during `npm install`). Everything it
// provides is a pure function with a TypeScript twin, so loading it cannot affect determinism: the
// addon only makes the same results faster. Set SCARAB_NATIVE=0 to force the TypeScript paths.
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface NativeAddon {
  /** AEGIS-128L MAC of `data` into `out[outOffset..outOffset+16)`. */
  aegisMac(data: Uint8Array, out: Uint8Array, outOffset: number): void;
  /** The MAC of data[start, end) into out[outOffset..+16), without a subarray. Absent from older builds. */
  aegisMacRange?(data: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number): void;
  /** Whether the MAC of data[start, end) equals expected[expectedOffset..+16). Absent from older builds. */
  aegisMacRangeMatches?(data: Uint8Array, start: number, end: number, expected: Uint8Array, expectedOffset: number): boolean;
  /** setChecksums of a message with a body (checksum_body, then the header checksum), in one call. Absent from older builds. */
  aegisSealFrame?(message: Uint8Array, size: number): void;
  /** A received message's checksums in one call: 0 ok, 1 bad header, 2 size ≠ length, 3 bad body. Absent from older builds. */
  aegisVerifyFrame?(message: Uint8Array): number;
  /** The portable C path, whatever the CPU (for tests that compare the two C paths). */
  aegisMacPortable?(data: Uint8Array, out: Uint8Array, outOffset: number): void;
  /** True when the CPU has AES-NI and the hardware path is used. */
  aesni(): boolean;
  /** flock(fd, LOCK_EX | LOCK_NB): 0 once locked, else errno. Absent from older builds. */
  flockExclusive?(fd: number): number;
  /** madvise(MADV_HUGEPAGE) over the array's whole 2 MiB pages: 0 or errno. Absent from older builds. */
  adviseHugePages?(array: Uint8Array | Uint32Array): number;
  // The data file's io_uring ring (native/io_uring.c; used through src/io/data_file/uring_ring.ts).
  // Absent from older builds; where io_uring is unavailable, uringCreate throws (code ENOSYS, EPERM...).
  uringCreate?(slots: number, completions: Int32Array, onCompletions: (count: number) => void, flags: number): UringHandle;
  uringRead?(ring: UringHandle, fd: number, buffer: Uint8Array, position: number, id: number): void;
  uringWrite?(ring: UringHandle, fd: number, buffer: Uint8Array, position: number, id: number): void;
  uringFsync?(ring: UringHandle, fd: number, id: number): void;
  uringSubmit?(ring: UringHandle): number;
  uringWait?(ring: UringHandle, timeoutNs: number): number;
  uringClose?(ring: UringHandle): void;
  uringWaitMethod?(ring: UringHandle): "ext_arg" | "timeout_op";
  /** fallocate(2), FALLOC_FL_KEEP_SIZE when keepSize: 0 or errno. */
  fallocateFile?(fd: number, keepSize: boolean, offset: number, length: number): number;
  /** execv(path, args) in place (same pid): returns errno only when it failed. Absent from older builds. */
  execProcess?(path: string, args: readonly string[]): number;
  /** The buffer's address modulo 4096 (tests and benchmarks build aligned views with it). */
  bufferAlignment?(buffer: Uint8Array): number;
}

/** An io_uring ring inside the addon (an opaque external). */
export type UringHandle = { readonly __uring: unique symbol };

function findAddonPath(): string | null {
  // Walk up from this module to the package root (works from src/ under vitest and from dist/).
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(directory, "build", "Release", "scarab_native.node");
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(directory, "package.json"))) return null;
    directory = dirname(directory);
  }
  return null;
}

function loadNativeAddon(): { addon: NativeAddon | null; reason: string; ioUringOff: string | null } {
  if (process.env["SCARAB_NATIVE"] === "0") return { addon: null, reason: "disabled by SCARAB_NATIVE=0", ioUringOff: null };
  const path = findAddonPath();
  if (path === null) return { addon: null, reason: "not built (npm install builds it with node-gyp)", ioUringOff: null };
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    const reason = addon.aesni() ? "AES-NI" : "portable C (no AES-NI on this CPU)";
    const ioUringOff = ioUringOffReason(path);
    return { addon: ioUringOff === null ? addon : withoutIoUring(addon), reason, ioUringOff };
  } catch (error) {
    return { addon: null, reason: `failed to load: ${(error as Error).message}`, ioUringOff: null };
  }
}

/** scripts/build-native.mjs leaves this marker when the ring failed its self-test at install. */
function ioUringOffReason(addonPath: string): string | null {
  const marker = addonPath.replace(/\.node$/, ".io_uring_off");
  return existsSync(marker) ? readFileSync(marker, "utf8").trim() : null;
}

/** The addon's exports without the ring (non-configurable properties: copied, not deleted). */
function withoutIoUring(addon: NativeAddon): NativeAddon {
  return Object.fromEntries(Object.entries(addon).filter(([name]) => !name.startsWith("uring"))) as unknown as NativeAddon;
}

const loaded = loadNativeAddon();
export const nativeAddon: NativeAddon | null = loaded.addon;
/** One line describing what is in use, for `scarab version` and benchmarks. */
export const nativeAddonStatus: string = loaded.reason;
/** Why the addon's io_uring functions are switched off (they failed their install self-test), or null. */
export const nativeIoUringOff: string | null = loaded.ioUringOff;
