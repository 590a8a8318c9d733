// A new primary repairs the committed headers below the join_views' suffixes from a peer in
// view_change that holds them in its WAL but never executed them (spec/vsr.md §7). As
// TigerBeetle's on_get_headers serves any header it holds and its on_headers/repair_header
// installs only what connects to its hash chain, a peer in view_change serves the primary of its
// view every header it holds, and the primary installs each only as the next link down of the
// chain that hangs off its head. Served only executed ops, the new primary here never started its
// view: its one reachable peer had executed up to 19 (its checkpoint; its grid blocks lost) and it
// lacked op 20 (`ignored headers: nothing to install`, hundreds of times, for 20 000 ticks).
import { describe, expect, test } from "vitest";
import { Command } from "../../src/core/command.js";
import { headerSize } from "../../src/core/config.js";
import { Header, PrepareHeader, setChecksums, setHeaderChecksumOnly } from "../../src/core/header.js";
import type { Scenario, ScenarioReplica } from "./scenario_harness.js";
import { createMany, oneEachAtOnce, stopAndCorruptGrid, threeReplicasAtCommit17 } from "./stories.js";

/** A `headers` message from `from` in `view` with a header for `op` that chains to nothing. */
function staleHeaders(from: ScenarioReplica, op: number, view: number): Uint8Array {
  const message = new Uint8Array(2 * headerSize);
  message.set(from.replica.headerAt(op)!.bytes(), headerSize);
  const stale = new PrepareHeader(message, headerSize);
  stale.timestamp += 1n;
  setHeaderChecksumOnly(message, headerSize);
  from.replica.frame(new Header(message, 0), Command.headers, message.length, view);
  setChecksums(message, 0, message.length);
  return message;
}

/**
 * Three replicas; R2 lacks committed op 20's header. Returns when R2, the new primary, has chosen
 * the log of its view, with R0 in view_change at commit_min 19 the only other replica up.
 */
function primaryMissingCommittedHeader(): { t: Scenario; r0: ScenarioReplica; r2: ScenarioReplica; checksum20: bigint } {
  const { t, r0, r1, r2 } = threeReplicasAtCommit17();
  expect(t.replica("A0").name).toBe("R1");
  // Ops 18..21 go out together, each saying commit 17. R2 hears no commit and loses op 20: it
  // holds 18, 19 and 21, executes none, and (asking nobody) keeps its gap at 20. R0 and R1
  // commit 21 and pass checkpoint 19.
  t.drop("*", r2.name, "commit").dropPrepare("*", r2.name, 20);
  t.drop(r2.name, "*", "get_headers", "get_prepare");
  oneEachAtOnce(t, 2000);
  t.runUntil(() => r2.op === 21 && r0.commitMin === 21 && r1.commitMin === 21);
  expect([r0.opCheckpoint, r1.opCheckpoint, r2.opCheckpoint, r2.commitMin]).toEqual([19, 19, 0, 17]);
  expect(r2.checksumOf(20)).toBeNull();
  const checksum20 = r0.checksumOf(20)!;
  expect(checksum20).not.toBeNull();
  r2.stop();
  t.heal();
  // R2 keeps asking nobody until both it and R0 are in a view change (in normal status, R0
  // vouches for its whole log, and the story would end there).
  t.drop(r2.name, "*", "get_headers", "get_prepare");
  r1.stop(); // the primary, and the only other holder of checkpoint 19's blocks
  stopAndCorruptGrid(r0); // R0 cannot execute past its checkpoint: it waits for blocks
  r0.open();
  r2.open();
  t.runUntil(() => r0.status === "view_change" && r2.status === "view_change");
  t.pass(r2.name, "*", "get_headers", "get_prepare");
  // R2 forfeits to R0 (ahead, at checkpoint 19), whose views never start; then it leads, with
  // op 20 committed but in no join_view's suffix, and R0 at commit_min 19 in view_change the
  // only replica up that holds its header.
  t.runUntil(() => r2.isPrimary && r2.status === "view_change" && r2.replica.viewLogChosen);
  expect([r0.status, r0.commitMin, r2.checksumOf(20)]).toEqual(["view_change", 19, null]);
  expect(t.probes["primary_forfeited"]).toBeGreaterThan(0);
  return { t, r0, r2, checksum20 };
}

describe("get_headers", () => {
  test("a new primary repairs a committed header below the join_views' suffixes from a peer in " +
    "view_change that holds it but never executed it", () => {
    const { t, r0, r2, checksum20 } = primaryMissingCommittedHeader();
    t.runUntil(() => [r0, r2].every((r) => r.status === "normal" && r.commitMin === 21), 20_000);
    expect(r2.isPrimary).toBe(true);
    expect(r2.checksumOf(20)).toBe(checksum20);
    expect(r2.events()).toContain("repair_headers: repaired 1 WAL header(s) from replica 0");
    createMany(t, 3000, 2);
    expect([r0.commitMin, r2.commitMin]).toEqual([23, 23]);
  });

  test("the primary refuses a header that does not chain to its head", () => {
    // Peers in view_change serve the primary headers nobody vouches for: one that does not chain
    // to its head (a stale one, from a log some view change discarded) is not installed.
    const { r0, r2 } = primaryMissingCommittedHeader();
    const ignored = (): number => r2.trace().filter((line) => line === "ignored headers: nothing to install").length;
    const before = ignored();
    r2.replica.onMessage(staleHeaders(r0, 20, r2.view));
    expect([ignored(), r2.checksumOf(20)]).toEqual([before + 1, null]);
  });
});
