// `scarab vopr report FILE... [--html OUT]`: merges the JSON lines of a fleet's shards (written by
// `scarab vopr --seeds N --json FILE`) into one report on stdout, and optionally one self-contained
// HTML file. Exits 0 when every seed passed, else with the most severe seed's exit code, so that the
// last job of a sharded fleet fails when any shard found a failing seed; 1 for misuse.
import { writeFileSync } from "node:fs";
import { mergeFleetFiles } from "./vopr_report_merge.js";
import { reportHtml } from "./vopr_report_html.js";
import { reportText } from "./vopr_report_text.js";
import { UsageError } from "./usage_error.js";

export const voprReportHelp = `Usage: scarab vopr report FILE... [--html OUT]

Merges the JSON-lines files of a VOPR fleet (scarab vopr --seeds N --json FILE), typically one per
shard (--shard I/N), and prints a report: failing seeds first with their replay and shrink commands,
outcome counts, ticks and wall-time distributions, faults injected and repairs, coverage probes (and
the probes no seed hit), seeds/s, seeds per core-hour, and the simulated-time ratio.
A seed found in more than one line is counted once, with a warning; shards without a fleet line
(killed, or not collected) are warnings too. A damaged line is an error naming FILE:LINE.

Options:
  --html OUT   also write the report as one self-contained HTML file (no external resources)
  --help       print this help

Exit codes: 0 every seed passed, 1 misuse or a damaged file, else the most severe failing seed's
code (124 timeout, 127 crash or nondeterminism, 128 liveness, 129 correctness).`;

interface ReportArgs {
  files: string[];
  html: string | null;
  help: boolean;
}

export function parseReportArgs(args: readonly string[]): ReportArgs {
  const parsed: ReportArgs = { files: [], html: null, help: false };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--help") parsed.help = true;
    else if (arg === "--html" || arg.startsWith("--html=")) {
      const value = arg === "--html" ? args[++index] : arg.slice("--html=".length);
      if (value === undefined || value === "") throw new UsageError("--html needs a file name");
      parsed.html = value;
    } else if (arg.startsWith("--")) throw new UsageError(`unknown option '${arg}'`);
    else parsed.files.push(arg);
  }
  if (!parsed.help && parsed.files.length === 0) throw new UsageError("give at least one JSON-lines file of a fleet (--json FILE)");
  return parsed;
}

export async function runVoprReport(argv: readonly string[]): Promise<number> {
  try {
    const args = parseReportArgs(argv);
    if (args.help) {
      console.log(voprReportHelp);
      return 0;
    }
    const report = await mergeFleetFiles(args.files);
    process.stdout.write(reportText(report).join("\n") + "\n");
    for (const warning of report.warnings) process.stderr.write(`scarab vopr report: warning: ${warning}\n`);
    if (args.html !== null) {
      writeHtml(args.html, reportHtml(report));
      process.stderr.write(`scarab vopr report: wrote ${args.html}\n`);
    }
    return report.worstExitCode;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // One line: the help would bury a FILE:LINE.
    console.error(`scarab vopr report: ${error.message} (see 'scarab vopr report --help')`);
    return 1;
  }
}

function writeHtml(file: string, html: string): void {
  try {
    writeFileSync(file, html);
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
