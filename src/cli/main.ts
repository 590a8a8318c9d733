// The `scarab` command line. Each subcommand lives in its own module; this file only dispatches,
// prints help, and turns user errors into a clear message and exit code 1 (never a stack trace).
import { readFileSync } from "node:fs";
import { releaseCurrent } from "../core/config.js";
import { checksumImplementation } from "../core/checksum.js";
import { nativeAddonStatus } from "../core/native_addon.js";
import { UsageError } from "./usage_error.js";
import { runBenchmark } from "./benchmark.js";
import { runFormat, runStart, type SignalRelay } from "./server.js";


interface Subcommand {
  summary: string;
  run(args: string[], signals?: SignalRelay): Promise<number> | number;
}

const usage = `Usage: scarab <command> [options]

Commands:
  format       create a data file for one replica
  recover      create a data file for a replica whose file was lost, to rejoin its cluster
  start        run a replica from a data file (portable node:fs / node:net backends)
  repl         run TigerBeetle REPL statements against a cluster (interactive or --command)
  benchmark    load a cluster (a temporary one by default) and print throughput and latency
  inspect      read a stopped replica's data file: superblock, wal, or integrity (read-only)
  vopr         run the deterministic cluster simulator on one seed, or a fleet of seeds
  version      print the version, protocol release and checksum implementation
  help         print this help

Run 'scarab <command> --help' for the options of a command.`;

function releaseText(release: number): string {
  return `${release >>> 16}.${(release >>> 8) & 0xff}.${release & 0xff}`;
}

function packageVersion(): string {
  const path = new URL("../../../package.json", import.meta.url);
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const subcommands: Record<string, Subcommand> = {
  benchmark: { summary: "load a cluster and measure it", run: runBenchmark },
  format: { summary: "create a data file", run: runFormat },
  recover: { summary: "recreate a lost data file", run: async (args) => (await import("./recover.js")).runRecover(args) },
  inspect: { summary: "inspect a data file", run: async (args) => (await import("./inspect.js")).runInspect(args) },
  start: { summary: "run a replica", run: (args, signals) => runStart(args, signals) },
  repl: { summary: "run REPL statements", run: async (args) => (await import("./repl.js")).runRepl(args) },
  vopr: { summary: "run the cluster simulator", run: async (args) => (await import("./vopr.js")).runVopr(args) },
  version: {
    summary: "print the version",
    run(args) {
      if (args.includes("--help")) {
        console.log("Usage: scarab version\n\nPrints the Scarab version, the TigerBeetle protocol release it speaks, and the checksum implementation in use.");
        return 0;
      }
      if (args.length > 0) throw new UsageError(`version takes no arguments (got '${args[0]}')`);
      console.log(`scarab ${packageVersion()}`);
      console.log(`protocol release ${releaseText(releaseCurrent)} (${releaseCurrent}), wire-compatible with tigerbeetle-node 0.17.9`);
      console.log(`checksum AEGIS-128L: ${checksumImplementation} (native addon: ${nativeAddonStatus})`);
      console.log(`node ${process.version}`);
      return 0;
    },
  },
  help: {
    summary: "print help",
    run() {
      console.log(usage);
      return 0;
    },
  },
};

/**
 * `signals`: for `scarab start`, the SIGTERM/SIGINT handlers bin/scarab.js installs before it
 * loads any module, so that a supervisor's signal during start-up is not fatal (cli/server.ts).
 */
export async function run(argv: string[], signals?: SignalRelay): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    console.log(usage);
    return name === undefined ? 1 : 0;
  }
  const subcommand = subcommands[name];
  try {
    if (subcommand === undefined) throw new UsageError(`unknown command '${name}'`);
    return await subcommand.run(args, signals);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`scarab: ${error.message}\n\n${usage}`);
      return 1;
    }
    throw error;
  }
}
