// Chooses the data file's Storage backend: io_uring + O_DIRECT (UringStorage) where the addon is
// built and both work on this file, else the portable node:fs backend (FileStorage), with the
// reason. io_uring can be missing for reasons outside our control: the addon could not be built,
// a container's seccomp profile refuses io_uring_setup (EPERM/ENOSYS), a sysctl disables it, or
// the filesystem refuses O_DIRECT (EINVAL). SCARAB_IO=portable forces the portable backend;
// SCARAB_IO=io_uring makes its absence an error instead of a fallback.
import type { Config } from "../../core/config.js";
import { nativeAddon, nativeAddonStatus, type NativeAddon } from "../../core/native_addon.js";
import type { Storage } from "../storage.js";
import { createDataFile } from "./disk.js";
import { FileStorage } from "./file_storage.js";
import { UringStorage, UringUnavailable } from "./uring_storage.js";

/** What a host needs of either backend. */
export interface DataFileStorage extends Storage {
  /** Sectors that failed with EIO when read alone, since open. */
  readonly sectorsUnreadable: number;
  /** Refuses new IO, lets in-flight IO land, closes the file, then calls back. */
  close(callback?: () => void): void;
}

export type StorageBackend = "io_uring" | "portable";

export interface OpenedStorage {
  readonly storage: DataFileStorage;
  readonly backend: StorageBackend;
  /** Why this backend: what io_uring is running with, or why it could not be used. */
  readonly reason: string;
}

export interface OpenStorageOptions {
  /** Create the file (never over an existing one) with this size. */
  readonly create?: boolean;
  readonly sizeBytes?: number;
  /** Told of sectors that failed with EIO even when read alone (absolute file offset, sector count). */
  readonly onUnreadable?: (offset: number, sectors: number) => void;
  /** A failed IO is reported here instead of thrown (UringStorageOptions.onError). */
  readonly onError?: (error: Error) => void;
  /** The environment to read SCARAB_IO from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Tests only: the addon to use (null: as if it were not built). */
  readonly addon?: NativeAddon | null;
}

/** A user error: a bad SCARAB_IO, or SCARAB_IO=io_uring where io_uring cannot be used. */
export class StorageSelectionError extends Error {}

/** Opens (or creates) the data file on the best backend available. Throws what opening throws. */
export function openDataFileStorage(path: string, config: Config, options: OpenStorageOptions = {}): OpenedStorage {
  const requested = (options.env ?? process.env)["SCARAB_IO"] ?? "auto";
  if (requested !== "auto" && requested !== "portable" && requested !== "io_uring") {
    throw new StorageSelectionError(`SCARAB_IO=${requested}: expected io_uring, portable or auto`);
  }
  // Created first, portably: a filesystem that then refuses O_DIRECT still gets its file.
  if (options.create) createDataFile(path, options.sizeBytes!);
  const { onUnreadable, onError } = options;
  const backendOptions = { ...(onUnreadable && { onUnreadable }), ...(onError && { onError }) };
  const portable = (reason: string): OpenedStorage =>
    ({ storage: new FileStorage(path, config, backendOptions), backend: "portable", reason });
  if (requested === "portable") return portable("SCARAB_IO=portable");
  const addon = options.addon === undefined ? nativeAddon : options.addon;
  try {
    if (addon === null) throw new UringUnavailable(nativeAddon === null ? `native addon ${nativeAddonStatus}` : "native addon not used");
    const storage = new UringStorage(path, config, addon, backendOptions);
    return { storage, backend: "io_uring", reason: `io_uring + O_DIRECT (wait: ${storage.waitMethod})` };
  } catch (error) {
    if (!(error instanceof UringUnavailable)) throw error;
    if (requested === "io_uring") throw new StorageSelectionError(`SCARAB_IO=io_uring, but io_uring is unavailable: ${error.message}`);
    return portable(`io_uring unavailable: ${error.message}`);
  }
}

/** The one line a host logs at start. */
export function storageLogLine(opened: OpenedStorage): string {
  return opened.backend === "io_uring" ? "storage: io_uring + O_DIRECT" : `storage: portable node:fs (${opened.reason})`;
}
