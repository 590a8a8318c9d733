// V8 heap options for the long-running replica (`scarab start`), given by re-executing the
// process in place before anything else runs.
//
// Why: a replica's JS heap is tiny (about 11 MB; the ledger lives in typed arrays outside it), and
// V8 sizes its old-generation limit from that heap, so the limit sits so close to the heap's size
// that incremental marking starts again after almost every allocation: measured, a full
// mark-compact every 150-200 ms in each replica of a 3-replica cluster under load (about 70 per
// 3M transfers), with concurrent marking threads on the cores the replicas need. Starting the
// limit at `--initial-old-space-size` leaves V8 room before its first limit: about 14
// mark-compacts per run, and 20% less replica CPU (scarab benchmark, 3 replicas, 3M transfers:
// 16.9 s → 13.5 s). The option only raises the point at which V8 collects; memory is not reserved.
//
// V8 reads heap options once, when the process starts (setFlagsFromString is too late, and
// NODE_OPTIONS refuses this one), so `scarab start` re-executes itself with the option, in
// place: execv keeps the pid, so supervisors, signals, kill -9 and the data file lock see one
// process. Without the native addon it runs as it is, with V8's defaults.
import { nativeAddon } from "../core/native_addon.js";

const initialOldSpaceMb = 256;
const option = "--initial-old-space-size";

/** The node options a command's process should start with, or an empty list. */
export function heapOptionsFor(command: string | undefined): string[] {
  return command === "start" ? [`${option}=${initialOldSpaceMb}`] : [];
}

/**
 * Re-executes this process with the heap options of `argv`'s command when it lacks them, unless
 * SCARAB_HEAP_OPTIONS=0. Returns only when there is nothing to do or execv failed (then the process
 * carries on with V8's defaults).
 */
export function reexecWithHeapOptions(argv: readonly string[], execArgv: readonly string[], execPath: string): void {
  const wanted = heapOptionsFor(argv[2]);
  if (wanted.length === 0 || process.env["SCARAB_HEAP_OPTIONS"] === "0") return;
  if (execArgv.some((arg) => arg.startsWith(option))) return; // given, by us or by the user
  nativeAddon?.execProcess?.(execPath, [execPath, ...execArgv, ...wanted, ...argv.slice(1)]);
}
