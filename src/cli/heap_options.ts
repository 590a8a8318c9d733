// V8 heap options for the commands that run long and hot, given by re-executing the process in
// place before anything else runs.
//
// `scarab start`: a replica's JS heap is tiny (about 11 MB; the ledger lives in typed arrays
// outside it), and V8 sizes its old-generation limit from that heap, so the limit sits so close
// to the heap's size that incremental marking starts again after almost every allocation:
// measured, a full mark-compact every 150-200 ms in each replica of a 3-replica cluster under load
// (about 70 per 3M transfers), with concurrent marking threads on the cores the replicas need.
// Starting the limit at `--initial-old-space-size` leaves V8 room before its first limit: about 14
// mark-compacts per run, and 20% less replica CPU (scarab benchmark, 3 replicas, 3M transfers:
// 16.9 s → 13.5 s). The option only raises the point at which V8 collects; memory is not reserved.
//
// `scarab benchmark`: its load generator builds each 8189-transfer batch as objects of BigInts,
// which live for about one round trip; a 64 MiB young generation lets most of them die there
// instead of being copied and promoted (1 replica, 10M transfers, interleaved: 629k, 611k, 580k
// tx/s against 571k, 589k, 550k).
//
// `scarab vopr`: every job is a worker thread of one process, and V8's parallel and concurrent GC
// threads ran on the cores the other jobs need (a fleet runs as many jobs as cores): 15% more CPU
// than the jobs' own. One GC thread and a small young generation (the simulator's garbage is short
// lived: views, headers, BigInts) ran 60 seeds of `--jobs 2` at 2885-3083x real time against
// 2376-2570x with V8's defaults, interleaved on this 2-core VM. The young generation was 32 MiB
// then; once the simulator allocated a quarter less (session 18), 8 MiB ran faster, as it stays in
// the cores' caches: 100 seeds of `--jobs 2`, interleaved, 1390x and 1404x per core against 1265x
// and 1180x at 32 MiB (4 and 16 MiB were within the noise of 8).
//
// V8 reads heap options once, when the process starts (setFlagsFromString is too late, and
// NODE_OPTIONS refuses --initial-old-space-size), so the process re-executes itself with them, in
// place: execv keeps the pid, so supervisors, signals, kill -9 and the data file lock see one
// process. Without the native addon it runs as it is, with V8's defaults.
import { nativeAddon } from "../core/native_addon.js";

const optionsByCommand: ReadonlyMap<string, readonly string[]> = new Map([
  ["start", ["--initial-old-space-size=256"]],
  ["benchmark", ["--max-semi-space-size=64"]],
  ["vopr", ["--single-threaded-gc", "--max-semi-space-size=8"]],
]);

/** The node options a command's process should start with (possibly none). */
export function heapOptionsFor(command: string | undefined): readonly string[] {
  return command === undefined ? [] : optionsByCommand.get(command) ?? [];
}

/**
 * Re-executes this process with the heap options of `argv`'s command that `execArgv` lacks (an
 * option the user gave keeps the user's value), unless SCARAB_HEAP_OPTIONS=0. Returns only when
 * there is nothing to do or execv failed (then the process carries on with V8's defaults).
 */
export function reexecWithHeapOptions(argv: readonly string[], execArgv: readonly string[], execPath: string): void {
  if (process.env["SCARAB_HEAP_OPTIONS"] === "0") return;
  const missing = missingHeapOptions(argv[2], execArgv);
  if (missing.length === 0) return;
  nativeAddon?.execProcess?.(execPath, [execPath, ...execArgv, ...missing, ...argv.slice(1)]);
}

/** The command's heap options whose names `execArgv` does not already give. */
export function missingHeapOptions(command: string | undefined, execArgv: readonly string[]): string[] {
  // `--no-single-threaded-gc` gives the option `--single-threaded-gc` its user's value too.
  const name = (option: string): string => option.split("=")[0]!.replace(/^--no-/, "--");
  return heapOptionsFor(command).filter((option) => !execArgv.some((arg) => name(arg) === name(option)));
}
