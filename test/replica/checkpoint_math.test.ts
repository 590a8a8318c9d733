import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { productionConfig, testConfig, type Config } from "../../src/core/config.js";
import { checkpointMath } from "../../src/replica/checkpoint_math.js";

const simulator = checkpointMath(testConfig);
const production = checkpointMath(productionConfig);

describe("checkpoint arithmetic (§9), simulator config", () => {
  it("vsr_checkpoint_ops is 20", () => {
    expect(testConfig.vsrCheckpointOps).toBe(20);
  });

  it.each([
    // c,  after, trigger, prepareMax, opPrepareMax(c)
    [0, 19, null, null, 31],
    [19, 39, 23, 31, 51],
    [39, 59, 43, 51, 71],
    [59, 79, 63, 71, 91],
  ])("checkpoint %i → after %i, trigger %s, prepare_max %s, op_prepare_max %i",
    (c, after, trigger, prepareMax, opPrepareMax) => {
      expect(simulator.checkpointAfter(c)).toBe(after);
      expect(simulator.triggerForCheckpoint(c)).toBe(trigger);
      expect(simulator.prepareMaxForCheckpoint(c)).toBe(prepareMax);
      expect(simulator.opPrepareMax(c)).toBe(opPrepareMax);
    });

  it.each([
    [0, true], [3, true], [7, true], [19, true], [39, true],
    [1, false], [2, false], [4, false], [20, false], [38, false],
  ])("checkpointValid(%i) = %s", (op, valid) => {
    expect(simulator.checkpointValid(op)).toBe(valid);
  });

  it.each([
    // c, commit, durable: trigger(19) = 23, so durable once commit > 23 + 4.
    [0, 0, true], [19, 0, false], [19, 27, false], [19, 28, true], [39, 47, false],
    [39, 48, true],
  ])("checkpointDurable(%i, %i) = %s", (c, commit, durable) => {
    expect(simulator.checkpointDurable(c, commit)).toBe(durable);
  });

  it.each([1, 18, 20])("asserts that %i is a valid checkpoint", (c) => {
    expect(() => simulator.checkpointAfter(c)).toThrow(AssertionError);
    expect(() => simulator.triggerForCheckpoint(c)).toThrow(AssertionError);
    expect(() => simulator.checkpointDurable(c, 100)).toThrow(AssertionError);
  });
});

describe("checkpoint arithmetic (§9), production config", () => {
  it("vsr_checkpoint_ops is 960", () => {
    expect(productionConfig.vsrCheckpointOps).toBe(960);
  });

  it.each([
    [0, 959, null, null, 1007],
    [959, 1919, 991, 1007, 1967],
    [1919, 2879, 1951, 1967, 2927],
  ])("checkpoint %i → after %i, trigger %s, prepare_max %s, op_prepare_max %i",
    (c, after, trigger, prepareMax, opPrepareMax) => {
      expect(production.checkpointAfter(c)).toBe(after);
      expect(production.triggerForCheckpoint(c)).toBe(trigger);
      expect(production.prepareMaxForCheckpoint(c)).toBe(prepareMax);
      expect(production.opPrepareMax(c)).toBe(opPrepareMax);
    });

  it.each([[959, 999, false], [959, 1000, true]])("checkpointDurable(%i, %i) = %s",
    (c, commit, durable) => {
      expect(production.checkpointDurable(c, commit)).toBe(durable);
    });

  it("checkpointDurableOp is the first commit checkpointDurable accepts, before the next checkpoint", () => {
    for (const math of [simulator, production]) {
      expect(math.checkpointDurableOp(0)).toBeNull(); // the root is durable from the start
      for (let c = math.checkpointAfter(0); c < 5000; c = math.checkpointAfter(c)) {
        const op = math.checkpointDurableOp(c)!;
        expect([math.checkpointDurable(c, op - 1), math.checkpointDurable(c, op)]).toEqual([false, true]);
        expect(op).toBeLessThanOrEqual(math.checkpointAfter(c)); // its releases free before the next encode
      }
    }
    expect(simulator.checkpointDurableOp(19)).toBe(28);
  });
});

describe("the durability rule (§9)", () => {
  it.each([testConfig, productionConfig])("holds for the $name config", (config: Config) => {
    expect(config.vsrCheckpointOps + config.lsmCompactionOps +
      2 * config.pipelinePrepareQueueMax).toBeLessThanOrEqual(config.journalSlotCount);
  });

  // Walk 50 checkpoints: every op first preparable at checkpoint c that overwrites a slot of
  // the previous wrap overwrites only an op inside checkpoint c, and only once checkpoint c is
  // durable on a quorum (the primary prepares op only after committing op − pipeline_max).
  it.each([testConfig, productionConfig])("no overwrite before durability, $name",
    (config: Config) => {
      const math = checkpointMath(config);
      const slots = config.journalSlotCount;
      const pipeline = config.pipelinePrepareQueueMax;
      const violations: string[] = [];
      let previousPrepareMax = 0;
      let c = 0;
      for (let i = 0; i < 50; i++) {
        const prepareMax = math.opPrepareMax(c);
        expect(prepareMax).toBeGreaterThan(previousPrepareMax);
        for (let op = previousPrepareMax + 1; op <= prepareMax; op++) {
          if (op < slots) continue; // first wrap: nothing overwritten
          if (op - slots > c) violations.push(`op ${op} overwrites an op beyond checkpoint ${c}`);
          if (!math.checkpointDurable(c, op - pipeline)) {
            violations.push(`op ${op} prepared before checkpoint ${c} is durable`);
          }
        }
        previousPrepareMax = prepareMax;
        c = math.checkpointAfter(c);
      }
      expect(violations).toEqual([]);
    });

  // checkpointDurable(c, commit) is inferred from a commit, which takes a replication quorum of
  // acknowledgements: every replica that may acknowledge an op beyond c's trigger + pipeline must
  // hold c durably. (opPrepareMax allows one pipeline more, which a replica prepares but does not
  // acknowledge until c is durable; seed 20 of the restart-heavy profile synced to a checkpoint
  // that one replica held, acknowledged past it by one whose checkpoint was the one before.)
  it.each([testConfig, productionConfig])("an acknowledgement vouches for the checkpoint it needs, $name",
    (config: Config) => {
      const math = checkpointMath(config);
      const violations: string[] = [];
      const checkpoints = [0];
      for (let i = 0; i < 50; i++) checkpoints.push(math.checkpointAfter(checkpoints.at(-1)!));
      for (const held of checkpoints) {
        const okMax = math.opPrepareOkMax(held);
        expect(okMax).toBeLessThan(math.opPrepareMax(held));
        for (const c of checkpoints) {
          // Acknowledged (and so committable) without holding c: c must not count as durable yet.
          if (c > held && math.checkpointDurable(c, okMax)) violations.push(`holding ${held}, op ${okMax} makes ${c} durable`);
        }
      }
      expect(violations).toEqual([]);
    });

  it("the simulator's bound is tight: one more op would overwrite before durability", () => {
    // At checkpoint 19 the first overwrite of the previous wrap is op 32, prepared once op 28 is
    // committed; checkpoint 19 became durable at exactly commit 28.
    expect(simulator.checkpointDurable(19, 32 - 4)).toBe(true);
    expect(simulator.checkpointDurable(19, 32 - 5)).toBe(false);
    expect(simulator.opPrepareMax(19) - testConfig.journalSlotCount).toBe(19);
  });
});
