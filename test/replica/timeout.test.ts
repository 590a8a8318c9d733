import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/core/assert.js";
import { Prng } from "../../src/core/prng.js";
import {
  Timeout, backoffTicks, jitteredTicks, rttTicksDefault,
} from "../../src/replica/timeout.js";
import { ReplicaTimeouts } from "../../src/replica/timeouts.js";

function ticks(timeout: Timeout, count: number): boolean[] {
  return Array.from({ length: count }, () => {
    timeout.tick();
    return timeout.fired();
  });
}

describe("Timeout", () => {
  it("fires after afterTicks ticks, once started", () => {
    const timeout = new Timeout({ name: "ping", afterTicks: 3 });
    expect(ticks(timeout, 5)).toEqual([false, false, false, false, false]);
    timeout.start();
    expect(ticks(timeout, 3)).toEqual([false, false, true]);
    expect(timeout.ticks).toBe(3);
  });

  it("panics when a fired timeout is not reset or stopped in the same tick", () => {
    const timeout = new Timeout({ name: "commit_message", afterTicks: 2 });
    timeout.start();
    expect(ticks(timeout, 2)).toEqual([false, true]);
    timeout.tick();
    expect(() => timeout.fired()).toThrow(AssertionError);
    expect(() => timeout.fired()).toThrow(/commit_message fired again without a reset/);
  });

  it.each<[string, (t: Timeout) => void, boolean[]]>([
    ["reset", (t) => t.reset(), [false, true, false, true, false, true]],
    ["stop", (t) => t.stop(), [false, true, false, false, false, false]],
    ["start", (t) => t.start(), [false, true, false, true, false, true]],
  ])("acting on the firing with %s in the same tick keeps it well-behaved", (_, act, expected) => {
    const timeout = new Timeout({ name: "journal_repair", afterTicks: 2 });
    timeout.start();
    const fired = Array.from({ length: 6 }, () => {
      timeout.tick();
      const now = timeout.fired();
      if (now) act(timeout);
      return now;
    });
    expect(fired).toEqual(expected);
  });

  it("stop forgets ticks and attempts; reset keeps ticking", () => {
    const prng = new Prng(1);
    const timeout = new Timeout({ name: "prepare", afterTicks: 25 });
    timeout.start();
    timeout.backoff(prng);
    timeout.tick();
    expect(timeout).toMatchObject({ attempts: 1, ticks: 1, ticking: true });
    timeout.reset();
    expect(timeout).toMatchObject({ attempts: 0, ticks: 0, ticking: true, currentAfterTicks: 25 });
    timeout.stop();
    expect(timeout).toMatchObject({ attempts: 0, ticks: 0, ticking: false });
  });

  it("asserts reset and backoff only while ticking", () => {
    const timeout = new Timeout({ name: "prepare", afterTicks: 25 });
    expect(() => timeout.reset()).toThrow(AssertionError);
    expect(() => timeout.backoff(new Prng(1))).toThrow(AssertionError);
    expect(() => new Timeout({ name: "bad", afterTicks: 0 })).toThrow(AssertionError);
    expect(() => timeout.setRtt(0)).toThrow(AssertionError);
  });

  it("backs off from the RTT, exponentially, with jitter", () => {
    const prng = new Prng(7);
    const timeout = new Timeout({ name: "prepare", afterTicks: 25, rttTicks: 5 });
    timeout.start();
    for (let attempt = 1; attempt <= 12; attempt++) {
      timeout.backoff(prng);
      expect(timeout.attempts).toBe(attempt);
      expect(timeout.ticks).toBe(0);
      const jitterMax = Math.min(999, 2 ** attempt);
      expect(timeout.currentAfterTicks).toBeGreaterThanOrEqual(5 * 2 + 1);
      expect(timeout.currentAfterTicks).toBeLessThanOrEqual(5 * 2 + 1 + jitterMax);
    }
  });

  it("wraps the u8 attempt count", () => {
    const prng = new Prng(3);
    const timeout = new Timeout({ name: "prepare", afterTicks: 25 });
    timeout.start();
    for (let i = 0; i < 256; i++) timeout.backoff(prng);
    expect(timeout.attempts).toBe(0);
    timeout.backoff(prng);
    expect(timeout.attempts).toBe(1);
  });

  it("uses the measured RTT once set, and a default before", () => {
    const timeout = new Timeout({ name: "prepare", afterTicks: 25 });
    expect(timeout.rttTicks).toBe(rttTicksDefault);
    timeout.setRtt(4);
    timeout.start();
    timeout.backoff(new Prng(5));
    expect(timeout.currentAfterTicks).toBeGreaterThanOrEqual(9);
    expect(timeout.currentAfterTicks).toBeLessThanOrEqual(11);
  });

  it("resets with jitter around afterTicks and is deterministic per seed", () => {
    const draws = (seed: number): number[] => {
      const prng = new Prng(seed);
      const timeout = new Timeout({ name: "exit_view_message", afterTicks: 50 });
      timeout.start();
      return Array.from({ length: 200 }, () => {
        timeout.resetJittered(prng);
        return timeout.currentAfterTicks;
      });
    };
    const values = draws(11);
    expect(draws(11)).toEqual(values);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(25);
    expect(Math.max(...values)).toBeLessThanOrEqual(75);
  });
});

describe("backoffTicks (§16): rtt·2 + 1 + U[0, min(999, 2^min(attempts, 63))]", () => {
  // The bounds are reached: draw enough to see both ends.
  it.each([
    [0, 1], [1, 2], [2, 4], [5, 32], [9, 512], [10, 999], [63, 999], [64, 999], [255, 999],
  ])("attempts %i: jitter in [0, %i]", (attempts, jitterMax) => {
    const prng = new Prng(attempts + 100);
    const values = Array.from({ length: 20_000 }, () => backoffTicks(prng, 3, attempts));
    expect(Math.min(...values)).toBe(3 * 2 + 1);
    expect(Math.max(...values)).toBe(3 * 2 + 1 + jitterMax);
  });

  it("rejects a zero RTT and an attempt count beyond a u8", () => {
    expect(() => backoffTicks(new Prng(1), 0, 1)).toThrow(AssertionError);
    expect(() => backoffTicks(new Prng(1), 1, 256)).toThrow(AssertionError);
  });
});

describe("jitteredTicks (§16): uniform in [after/2, 2·after − after/2]", () => {
  it.each([[100, 50, 150], [5, 2, 8], [2, 1, 3], [1, 1, 2]])("after %i → [%i, %i]",
    (after, low, high) => {
      const prng = new Prng(after);
      const values = Array.from({ length: 5_000 }, () => jitteredTicks(prng, after));
      expect(Math.min(...values)).toBe(low);
      expect(Math.max(...values)).toBe(high);
    });
});

describe("Timeout alone: quiet ticks", () => {
  it("counts the ticks short of firing, and skipping them lands on the firing tick", () => {
    const timeout = new Timeout({ name: "t", afterTicks: 5 });
    expect(timeout.quietTicksAhead).toBe(Infinity); // stopped
    timeout.start();
    expect(timeout.quietTicksAhead).toBe(4);
    timeout.skipQuietTicks(4);
    expect(timeout.fired()).toBe(false);
    timeout.tick();
    expect(timeout.fired()).toBe(true);
    timeout.reset();
    expect(() => timeout.skipQuietTicks(5)).toThrow(AssertionError);
  });
});

describe("ReplicaTimeouts", () => {
  it("ticks its timeouts together and says when one is due", () => {
    const timeouts = new ReplicaTimeouts(new Prng(7n));
    timeouts.startCommon(true); // ping (100 ticks) and journal_repair (10)
    const due: number[] = [];
    for (let tick = 1; tick <= 100; tick++) {
      if (!timeouts.tick()) continue;
      due.push(tick);
      if (timeouts.journalRepair.fired()) timeouts.journalRepair.reset();
      if (timeouts.ping.fired()) timeouts.ping.reset();
    }
    expect(due).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(timeouts.ping.ticks).toBe(0); // reset at 100
    expect(timeouts.journalRepair.ticks).toBe(0);
    // A timeout started between ticks counts from then; one left due stays due (fired() then asserts).
    timeouts.enterNormal(true); // commit_message 50, primary_abdicate 1000, pulse 10
    for (let tick = 1; tick <= 9; tick++) expect(timeouts.tick()).toBe(false);
    expect(timeouts.tick()).toBe(true); // journal_repair and pulse
    expect(timeouts.pulse.due && timeouts.journalRepair.due).toBe(true);
    expect(timeouts.tick()).toBe(true);
    expect(() => timeouts.pulse.fired()).toThrow(AssertionError);
    expect(() => timeouts.ping.tick()).toThrow(AssertionError); // a timeout of a group ticks with it
  });

  it("says how many ticks ahead are quiet, and skipping them lands on the due tick", () => {
    const timeouts = new ReplicaTimeouts(new Prng(7n));
    expect(timeouts.quietTicksAhead(false, 0)).toBe(Infinity); // nothing runs
    timeouts.startCommon(true); // journal_repair is due on the 10th tick
    expect(timeouts.quietTicksAhead(false, 0)).toBe(9);
    for (let tick = 1; tick <= 4; tick++) expect(timeouts.tick()).toBe(false);
    expect(timeouts.quietTicksAhead(false, 0)).toBe(5);
    timeouts.skipQuietTicks(5);
    expect(timeouts.quietTicksAhead(false, 0)).toBe(0);
    expect(timeouts.tick()).toBe(true); // the 10th tick, as if ticked one by one
    expect(timeouts.journalRepair.fired()).toBe(true);
    timeouts.journalRepair.reset();
    expect(timeouts.quietTicksAhead(false, 0)).toBe(9);
    expect(() => timeouts.skipQuietTicks(10)).toThrow(AssertionError); // past a due timeout
    timeouts.tick();
    expect(() => timeouts.skipQuietTicks(1)).toThrow(AssertionError); // promised at another tick
  });

  it("counts idle journal_repair firings as quiet, and skipping them restarts it as each firing would", () => {
    // Two runs from the same state: ticked one by one, resetting journal_repair on each firing, and
    // skipped at once with repairIdle. Both must leave every timeout the same.
    const ticked = new ReplicaTimeouts(new Prng(7n));
    const skipped = new ReplicaTimeouts(new Prng(7n));
    for (const timeouts of [ticked, skipped]) {
      timeouts.startCommon(true); // ping (100 ticks) and journal_repair (10)
      for (let tick = 1; tick <= 3; tick++) timeouts.tick();
    }
    expect(skipped.quietTicksAhead(false, 0)).toBe(6); // journal_repair on the 10th tick
    expect(skipped.quietTicksAhead(true, 0)).toBe(96); // ping on the 100th
    for (let tick = 4; tick <= 99; tick++) {
      expect(ticked.tick()).toBe(tick % 10 === 0);
      if (ticked.journalRepair.fired()) ticked.journalRepair.reset();
    }
    skipped.skipQuietTicks(96);
    expect(skipped.journalRepair.ticks).toBe(ticked.journalRepair.ticks); // 9: restarted on tick 90
    expect(skipped.journalRepair.deadline).toBe(ticked.journalRepair.deadline);
    expect(skipped.ping.ticks).toBe(ticked.ping.ticks);
    expect(skipped.quietTicksAhead(false, 0)).toBe(ticked.quietTicksAhead(false, 0));
    expect(skipped.quietTicksAhead(false, 0)).toBe(0); // journal_repair and ping are due on tick 100
    expect(skipped.tick()).toBe(true);
    expect(skipped.journalRepair.fired() && skipped.ping.fired()).toBe(true);
    expect(() => skipped.skipQuietTicks(1)).toThrow(AssertionError); // ping is due: not quiet
  });

  it("counts a primary's pulse firings quiet for as many ticks as it is told, and restarts it as each would", () => {
    const ticked = new ReplicaTimeouts(new Prng(7n));
    const skipped = new ReplicaTimeouts(new Prng(7n));
    for (const timeouts of [ticked, skipped]) {
      timeouts.startCommon();
      timeouts.enterNormal(true); // pulse (10 ticks), commit_message (50), primary_abdicate (1000)
      for (let tick = 1; tick <= 3; tick++) timeouts.tick();
    }
    expect(skipped.quietTicksAhead(true, 0)).toBe(6); // pulse on the 10th tick
    // Pulse firings quiet on the next 25 ticks (up to tick 28): the first that may act is on tick 30,
    // but commit_message is due on tick 50 and journal_repair, not idle, on tick 10.
    expect(skipped.quietTicksAhead(false, 25)).toBe(6);
    expect(skipped.quietTicksAhead(true, 25)).toBe(26);
    expect(skipped.quietTicksAhead(true, 26)).toBe(26); // tick 29 is no firing: still tick 30
    expect(skipped.quietTicksAhead(true, 27)).toBe(36); // quiet up to tick 30: pulse on tick 40
    expect(skipped.quietTicksAhead(true, Infinity)).toBe(46); // commit_message on tick 50
    for (let tick = 4; tick <= 49; tick++) {
      expect(ticked.tick()).toBe(tick % 10 === 0);
      if (ticked.journalRepair.fired()) ticked.journalRepair.reset();
      if (ticked.pulse.fired()) ticked.pulse.reset();
    }
    skipped.skipQuietTicks(46);
    for (const name of ["pulse", "journalRepair", "commitMessage", "ping"] as const) {
      expect(skipped[name].deadline, name).toBe(ticked[name].deadline);
    }
    expect(skipped.tick() && ticked.tick()).toBe(true); // tick 50: all four due
    expect(skipped.pulse.fired() && skipped.commitMessage.fired()).toBe(true);
  });
});
