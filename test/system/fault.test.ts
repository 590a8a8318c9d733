// The multi-process fault test, short run (the long run: scripts/fault-test). Three real replica
// processes (`scarab start`) behind a fault proxy, the official tigerbeetle-node client's workload,
// and a nemesis: SIGKILL of the primary and restart, SIGSTOP/SIGCONT of a backup, SIGTERM of a
// backup (exit 0 within 5 s) and restart, a second start of a live replica's file (exit 1, "in
// use"), proxy faults (delays, dropped connections, a replica isolated, a replica stalled), and
// disk damage: random bytes over a stopped backup's WAL, superblock copies or grid blocks, after
// which it must come back (test/system/disk_damage.ts).
// Then: every acknowledged transfer exists, every account matches the model, the replicas
// converge, and no replica exited unless the schedule told it to (test/system/fault_run.ts).
//
// The scenario runs in a child process in its own process group (runner_process.ts), killed as a
// group in afterAll whatever happens, so no replica outlives the test. The seed is printed: rerun
// the same fault schedule with `scripts/fault-test --duration=25 --seed=N`.
//
// Skipped only when dist/ is missing: the replicas are `node bin/scarab.js start`, which runs the
// compiled dist/ (CI's `npm ci` builds it through the prepare script).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { startScenario, tail, type RunningScenario } from "./runner_process.js";

const built = existsSync(fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url)));
const directory = mkdtempSync(join(tmpdir(), "scarab-fault-test-"));
let running: RunningScenario | null = null;

afterAll(() => {
  running?.kill();
  rmSync(directory, { recursive: true, force: true });
});

describe.runIf(built)("multi-process fault test (real replicas, official client, fault proxy)", () => {
  test("acknowledged transfers survive primary kills, pauses, restarts, network faults and disk damage", async () => {
    // A fixed schedule by default so that CI is repeatable; SCARAB_FAULT_SEED picks another.
    const seed = Number(process.env["SCARAB_FAULT_SEED"] ?? 20261205);
    const stderrPath = join(directory, "runner.stderr.log");
    const lines: string[] = [];
    running = startScenario({ args: ["--duration=25", `--seed=${seed}`], stderrPath, timeoutMs: 140_000,
      onLine: (line) => lines.push(line) });
    const result = await running.done;
    const verdict = result.verdict;
    const explain = () => `seed ${seed} (replay: scripts/fault-test --duration=25 --seed=${seed})\n` +
      `exit ${result.code} signal ${result.signal}${result.timedOut ? " (timed out)" : ""}\n` +
      `${lines.filter((line) => !line.startsWith("VERDICT")).join("\n")}\n` +
      `problems:\n${verdict?.problems.join("\n") ?? "(no verdict)"}\n` +
      `runner stderr (tail):\n${tail(stderrPath, 8)}`;
    expect(verdict, explain()).not.toBeNull();
    expect(verdict!.problems, explain()).toEqual([]);
    expect(result.code, explain()).toBe(0);
    for (const kind of ["kill_primary", "pause_backup", "term_backup", "second_start", "isolate", "stall", "drop_connections"] as const) {
      expect(verdict!.faults[kind], `${kind}\n${explain()}`).toBeGreaterThanOrEqual(1);
    }
    expect(verdict!.workload!.acknowledged, explain()).toBeGreaterThan(0);
    expect(verdict!.verify!.acknowledgedChecked, explain()).toBe(verdict!.workload!.acknowledged);
    expect(verdict!.verify!.accountsChecked, explain()).toBe(64);
  }, 150_000);
});
