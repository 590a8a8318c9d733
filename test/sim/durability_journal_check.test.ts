// The durability checker's journal check (spec/vopr.md §11.4): a clean WAL slot's in-memory header
// must be on disk, in its redundant header sector and at the start of its prepare. The check
// skips a slot it passed before while neither the header nor its sectors changed
// (StorageSim.sectorChangeCount); these stories show that a change made after a pass is still found.
import { describe, expect, test } from "vitest";
import { headerSize, testConfig } from "../../src/core/config.js";
import { Zone } from "../../src/io/storage.js";
import { scenario } from "../replica/scenario_harness.js";
import { expectViolation } from "./vopr_helpers.js";

/** A quiet cluster of one whose journal checks have passed (quiet runs ≥ 1500 ticks; checks every 97). */
function checkedCluster() {
  const t = scenario({ replicas: 1 });
  t.requests(3).runUntilQuiet();
  const r = t.replica("R0");
  const op = r.replica.commitMin;
  expect(op).toBeGreaterThanOrEqual(3);
  expect(r.replica.journal.isDirty(op)).toBe(false);
  return { t, r, slot: op % testConfig.journalSlotCount };
}

describe("durability checker: journal check", () => {
  test("finds a clean slot's redundant header changed on disk after it passed", () => {
    const { t, r, slot } = checkedCluster();
    r.storage.corruptBytes(Zone.wal_headers, slot * headerSize + 40, 1);
    expectViolation(() => t.tick(500), new RegExp(`clean WAL slot ${slot} .* holds another redundant header and its prepare`));
  });

  test("finds a clean slot's prepare changed on disk after it passed", () => {
    const { t, r, slot } = checkedCluster();
    r.storage.corruptBytes(Zone.wal_prepares, slot * testConfig.messageSizeMax + 40, 1);
    expectViolation(() => t.tick(500), new RegExp(`clean WAL slot ${slot} .* holds its redundant header and another prepare`));
  });

  test("an unchanged disk keeps passing", () => {
    const { t } = checkedCluster();
    expect(() => t.tick(1500)).not.toThrow();
  });
});
