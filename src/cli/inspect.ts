// `scarab inspect superblock|wal|integrity [--development] FILE`: what a STOPPED replica's data file
// holds, read-only (the file is opened O_RDONLY and never written). Reading and verifying live in
// inspect_read.ts (file, superblock), inspect_wal.ts and inspect_grid.ts; printing in
// inspect_print.ts, the integrity verdict in inspect_integrity.ts; this file parses the command line.
import { parseArgs } from "node:util";
import { productionConfig, testConfig, type Config } from "../core/config.js";
import {
  type SuperblockReport, DataFile, InspectError, checkLayout, checkNotTruncated, configName, inspectSuperblock,
} from "./inspect_read.js";
import { runIntegrity } from "./inspect_integrity.js";
import { type Output, printSuperblock, printWal } from "./inspect_print.js";
import { inspectWal } from "./inspect_wal.js";

export const inspectHelp = `Usage: scarab inspect superblock|wal|integrity [--development] [--verbose] [--cluster=N] <path>

Reports what a STOPPED replica's data file holds. The file is opened read-only and never written.

  superblock   each of the 4 superblock copies: valid or why not, its sequence, cluster, replica,
               view, log_view, commit_max, checkpoint and sync range; then which copy the 2-of-4
               open quorum picks, or why open would fail (exit 1)
  wal          each WAL slot: the redundant header against the prepare's own header, whether the
               prepare's body verifies, and the recovery-table case (spec/vsr.md §11.3); then the
               op range held and the head. Alike slots are collapsed into ranges; --verbose lists
               every slot. Exit 1 if open would refuse the WAL
  integrity    verifies every checksummed byte a replica needs: the superblock copies, every WAL
               header and prepare, the checkpoint's grid blocks (manifest, then data blocks), and
               says where anything is damaged. Exit 0 if intact, 1 if anything is damaged

Options:
  --development   the data file was formatted with --development (the small layout)
  --verbose       wal: one line per slot
  --cluster N     the expected cluster id (default: the one most superblock copies hold)
  --help          print this help

Exit codes: 0 intact, 1 damaged (or would not open), 2 usage error or not a data file.`;

interface InspectArgs {
  readonly what: "superblock" | "wal" | "integrity";
  readonly path: string;
  readonly config: Config;
  readonly verbose: boolean;
  readonly cluster: bigint | null;
}

function parseInspectArgs(args: string[]): InspectArgs | null {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: {
      development: { type: "boolean" }, verbose: { type: "boolean" }, help: { type: "boolean" },
      cluster: { type: "string" },
    } });
  } catch (error) {
    throw new InspectError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  const [what, path, ...rest] = positionals;
  if (what !== "superblock" && what !== "wal" && what !== "integrity") {
    throw new InspectError(what === undefined ? "expected superblock, wal or integrity" : `unknown subcommand '${what}'`);
  }
  if (path === undefined || rest.length > 0) throw new InspectError("expected exactly one data file path");
  const clusterText = values.cluster;
  if (clusterText !== undefined && (!/^\d{1,39}$/.test(clusterText) || BigInt(clusterText) >= 1n << 128n)) {
    throw new InspectError("--cluster must be a decimal u128");
  }
  return {
    what, path, config: values.development ? testConfig : productionConfig, verbose: values.verbose === true,
    cluster: clusterText === undefined ? null : BigInt(clusterText),
  };
}

/** Runs the command; errors a user can cause become one line on stderr, never a stack trace. */
export function runInspect(args: string[], out: Output = (line) => console.log(line),
  err: Output = (line) => console.error(line)): number {
  let file: DataFile | null = null;
  try {
    const parsed = parseInspectArgs(args);
    if (parsed === null) {
      out(inspectHelp);
      return 0;
    }
    file = DataFile.open(parsed.path);
    checkLayout(file, parsed.config);
    return inspect(parsed, file, out);
  } catch (error) {
    if (!(error instanceof InspectError)) throw error;
    err(`scarab inspect: ${error.message}${error.exitCode === 2 ? " (see 'scarab inspect --help')" : ""}`);
    return error.exitCode;
  } finally {
    file?.close();
  }
}

function inspect(args: InspectArgs, file: DataFile, out: Output): number {
  const superblock = inspectSuperblock(file, args.config, args.cluster);
  out(`data file ${file.path}: ${configName(args.config)} layout, ${file.size} bytes`);
  if (args.what === "superblock") return printSuperblock(superblock, out);
  checkNotTruncated(file, args.config);
  if (superblock.best === null) wrongCluster(superblock);
  if (args.what === "integrity") return runIntegrity(file, superblock, out);
  if (superblock.best === null) throw new InspectError("no valid superblock copy: the cluster and checkpoint are unknown", 1);
  if (superblock.working === null) out("note: open would fail; reading the WAL with the newest valid superblock copy");
  const wal = inspectWal(file, args.config, superblock.best);
  return printWal(wal, args.verbose, out);
}

/** No copy decodes because --cluster names another cluster than the file's: a usage error. */
function wrongCluster(report: SuperblockReport): void {
  const other = report.copies.find((copy) => copy.status === "other cluster");
  if (!report.clusterInferred && other !== undefined) {
    throw new InspectError(`the superblock copies belong to cluster ${other.cluster}, not ${report.cluster}`);
  }
}
