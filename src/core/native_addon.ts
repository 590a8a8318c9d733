// Loads the optional native addon (native/, built by node-gyp during `npm install`). Everything it
// provides is a pure function with a TypeScript twin, so loading it cannot affect determinism: the
// addon only makes the same results faster. Set SCARAB_NATIVE=0 to force the TypeScript paths.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface NativeAddon {
  /** AEGIS-128L MAC of `data` into `out[outOffset..outOffset+16)`. */
  aegisMac(data: Uint8Array, out: Uint8Array, outOffset: number): void;
  /** The portable C path, whatever the CPU (for tests that compare the two C paths). */
  aegisMacPortable?(data: Uint8Array, out: Uint8Array, outOffset: number): void;
  /** True when the CPU has AES-NI and the hardware path is used. */
  aesni(): boolean;
  /** flock(fd, LOCK_EX | LOCK_NB): 0 once locked, else errno. Absent from older builds. */
  flockExclusive?(fd: number): number;
  /** madvise(MADV_HUGEPAGE) over the array's whole 2 MiB pages: 0 or errno. Absent from older builds. */
  adviseHugePages?(array: Uint8Array | Uint32Array): number;
}

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

function loadNativeAddon(): { addon: NativeAddon | null; reason: string } {
  if (process.env["SCARAB_NATIVE"] === "0") return { addon: null, reason: "disabled by SCARAB_NATIVE=0" };
  const path = findAddonPath();
  if (path === null) return { addon: null, reason: "not built (npm install builds it with node-gyp)" };
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    return { addon, reason: addon.aesni() ? "AES-NI" : "portable C (no AES-NI on this CPU)" };
  } catch (error) {
    return { addon: null, reason: `failed to load: ${(error as Error).message}` };
  }
}

const loaded = loadNativeAddon();
export const nativeAddon: NativeAddon | null = loaded.addon;
/** One line describing what is in use, for `scarab version` and benchmarks. */
export const nativeAddonStatus: string = loaded.reason;
