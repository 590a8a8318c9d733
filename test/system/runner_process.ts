// Starts one fault scenario (fault_run.ts) as a child process in a NEW process group, and kills
// that whole group when the scenario ends, times out or is abandoned: the replicas it started live
// in the same group, so none outlives the run. Used by test/system/fault.test.ts and by
// scripts/fault-test. The child's stdout (progress lines, the VERDICT line) is passed on line by
// line; its stderr (the official client's own log lines, any stack trace) goes to a file.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Verdict } from "./fault_run.js";

const loader = fileURLToPath(new URL("./ts_loader.mjs", import.meta.url));
const entry = fileURLToPath(new URL("./fault_run.ts", import.meta.url));

export interface RunnerOptions {
  /** fault_run.ts options, e.g. ["--duration=25", "--seed=1"]. */
  readonly args: readonly string[];
  /** Where the child's stderr goes. */
  readonly stderrPath: string;
  /** Kill the group after this long (the verdict is then null). */
  readonly timeoutMs: number;
  readonly onLine?: (line: string) => void;
}

export interface RunnerResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly verdict: Verdict | null;
  readonly stdout: string;
}

export interface RunningScenario {
  readonly done: Promise<RunnerResult>;
  /** SIGKILLs the scenario's process group (idempotent). */
  kill(): void;
}

export function startScenario(options: RunnerOptions): RunningScenario {
  const stderr = openSync(options.stderrPath, "a");
  const child = spawn(process.execPath, ["--enable-source-maps", "--import", loader, entry, ...options.args], {
    detached: true, stdio: ["pipe", "pipe", stderr], env: { ...process.env, SCARAB_FAULT_GROUP: "1" },
  });
  closeSync(stderr);
  let killed = false;
  const kill = () => {
    if (killed || child.pid === undefined) return;
    killed = true;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  let stdout = "";
  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    stdout += chunk;
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) options.onLine?.(line);
  });
  const done = new Promise<RunnerResult>((resolve) => {
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (partial !== "") options.onLine?.(partial);
      // Whatever the scenario left behind (it stops its replicas itself when it can).
      kill();
      const line = stdout.split("\n").reverse().find((l) => l.startsWith("VERDICT "));
      const verdict = line === undefined ? null : (JSON.parse(line.slice("VERDICT ".length)) as Verdict);
      resolve({ code, signal, timedOut, verdict, stdout });
    });
  });
  return { done, kill };
}

/** The last lines of a file (the child's stderr), for a failure message. */
export function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
