// The replica's timeouts (spec/vsr.md §16), all in ticks of 10 ms, and which run in which status.
// A timeout that fires must be reset, backed off or stopped in the same tick (Timeout asserts it).
import { assert, assertFailed } from "../core/assert.js";
import type { Prng } from "../core/prng.js";
import { TickClock, Timeout } from "./timeout.js";

export class ReplicaTimeouts {
  /** Every timeout here counts this clock's ticks: one increment per tick, not twelve. */
  private readonly clock = new TickClock();
  /** The earliest deadline of a running timeout (Infinity: none), as of the clock's last change. */
  private dueAt = Infinity;
  /** The same, journal_repair and pulse left out. */
  private dueAtOthers = Infinity;
  /** What the last quietTicksAhead promised: at which clock tick, how many ticks, and which firings it skips. */
  private readonly promised = { now: -1, ticks: 0, repairIdle: false, pulseQuiet: false };
  /** Replica ↔ replica pings, for clock synchronisation and liveness. */
  readonly ping = new Timeout({ name: "ping", afterTicks: 100 }, this.clock);
  /** Primary: resend prepares that lack prepare_oks. */
  readonly prepare = new Timeout({ name: "prepare", afterTicks: 25 }, this.clock);
  /** Primary: the commit heartbeat to backups. */
  readonly commitMessage = new Timeout({ name: "commit_message", afterTicks: 50 }, this.clock);
  /** Primary: stop heartbeating when no prepare_ok arrives for this long, so backups depose it. */
  readonly primaryAbdicate = new Timeout({ name: "primary_abdicate", afterTicks: 1000 }, this.clock);
  /** Backup: no prepare or commit from the primary for this long → vote to leave the view. */
  readonly normalHeartbeat = new Timeout({ name: "normal_heartbeat", afterTicks: 100 }, this.clock);
  /** Forget exit_view votes after this long. */
  readonly exitViewWindow = new Timeout({ name: "exit_view_window", afterTicks: 500 }, this.clock);
  /** Resend our own exit_view vote. */
  readonly exitViewMessage = new Timeout({ name: "exit_view_message", afterTicks: 50 }, this.clock);
  /** Give up on a view change that does not complete, and vote again. */
  readonly viewChangeStatus = new Timeout({ name: "view_change_status", afterTicks: 500 }, this.clock);
  /** Resend the join_view (byte-identical) to the new primary. */
  readonly joinViewMessage = new Timeout({ name: "join_view_message", afterTicks: 50 }, this.clock);
  /** Ask the primary for the current view (laggards, recovering_head). */
  readonly getViewMessage = new Timeout({ name: "get_view_message", afterTicks: 100 }, this.clock);
  /** Ask peers for missing headers and prepares. */
  readonly journalRepair = new Timeout({ name: "journal_repair", afterTicks: 10 }, this.clock);
  /**
   * Backup: note the commit progress; without any, and with repair stuck, ask the primary for its
   * `view`, whose durable checkpoint we may then sync to (TigerBeetle's repair_sync_timeout).
   */
  readonly repairSync = new Timeout({ name: "repair_sync", afterTicks: 500 }, this.clock);
  /** Primary: check whether pending transfers are due to expire. */
  readonly pulse = new Timeout({ name: "pulse", afterTicks: 10 }, this.clock);

  private readonly all: Timeout[];

  constructor(private readonly prng: Prng) {
    this.all = [
      this.ping, this.prepare, this.commitMessage, this.primaryAbdicate, this.normalHeartbeat,
      this.exitViewWindow, this.exitViewMessage, this.viewChangeStatus, this.joinViewMessage,
      this.getViewMessage, this.journalRepair, this.repairSync, this.pulse,
    ];
  }

  /** Ticks every timeout; true when any is due (Timeout.due): most ticks, none is. */
  tick(): boolean {
    const clock = this.clock;
    clock.now += 1;
    if (clock.changed) this.refreshDueAt();
    return clock.now >= this.dueAt;
  }

  /**
   * How many coming tick() calls return false (Infinity while no timeout runs), counting as quiet
   * journal_repair's firings with `repairIdle` (protocol/repair.ts journalRepairIdle) and pulse's
   * over the next `pulseQuietTicks` ticks (protocol/request.ts pulseQuietTicks): they would only
   * restart their timeout. skipQuietTicks may then skip that many.
   */
  quietTicksAhead(repairIdle: boolean, pulseQuietTicks: number): number {
    const clock = this.clock;
    if (clock.changed) this.refreshDueAt();
    let dueAt = this.dueAtOthers;
    const repair = this.journalRepair;
    if (!repairIdle && repair.ticking && repair.deadline < dueAt) dueAt = repair.deadline;
    const pulse = this.pulse;
    if (pulse.ticking && pulseQuietTicks !== Infinity) {
      const pulseAt = firingAfter(pulse, clock.now + pulseQuietTicks);
      if (pulseAt < dueAt) dueAt = pulseAt;
    }
    const quiet = dueAt - clock.now - 1;
    const promised = this.promised;
    promised.now = clock.now;
    promised.ticks = quiet;
    promised.repairIdle = repairIdle;
    promised.pulseQuiet = pulseQuietTicks > 0;
    return quiet;
  }

  /**
   * Counts `ticks` tick() calls that the last quietTicksAhead promised quiet: journal_repair and
   * pulse, if it counted their firings as quiet, restart as those firings did.
   */
  skipQuietTicks(ticks: number): void {
    const promised = this.promised;
    assert(promised.now === this.clock.now && ticks <= promised.ticks, "timeouts: skipped past a due timeout");
    this.clock.now += ticks;
    if (promised.repairIdle) this.journalRepair.restartPassedPeriods();
    if (promised.pulseQuiet) this.pulse.restartPassedPeriods();
  }

  private refreshDueAt(): void {
    this.clock.changed = false;
    let dueAt = Infinity;
    for (const timeout of this.all) {
      if (timeout === this.journalRepair || timeout === this.pulse) continue;
      if (timeout.ticking && timeout.deadline < dueAt) dueAt = timeout.deadline;
    }
    this.dueAtOthers = dueAt;
    const repair = this.journalRepair;
    const pulse = this.pulse;
    if (repair.ticking && repair.deadline < dueAt) dueAt = repair.deadline;
    this.dueAt = pulse.ticking && pulse.deadline < dueAt ? pulse.deadline : dueAt;
  }

  /** Timeouts that run in every status once the replica is open (pings: active replicas only). */
  startCommon(pings: boolean): void {
    if (pings) this.ping.start();
    this.journalRepair.start();
  }

  private stopStatusTimeouts(): void {
    for (const timeout of this.all) {
      if (timeout !== this.ping && timeout !== this.journalRepair) timeout.stop();
    }
  }

  enterNormal(primary: boolean): void {
    this.stopStatusTimeouts();
    if (primary) {
      this.commitMessage.start();
      this.primaryAbdicate.start();
      this.pulse.start();
    } else {
      this.normalHeartbeat.start();
      this.normalHeartbeat.resetJittered(this.prng);
      this.repairSync.start();
    }
  }

  enterViewChange(): void {
    this.stopStatusTimeouts();
    this.viewChangeStatus.start();
    this.joinViewMessage.start();
    this.exitViewMessage.start();
  }

  enterRecoveringHead(): void {
    this.stopStatusTimeouts();
    this.getViewMessage.start();
  }
}

/** The clock tick of `timeout`'s first firing after tick `after`, resetting at each firing before. */
function firingAfter(timeout: Timeout, after: number): number {
  const deadline = timeout.deadline;
  if (deadline > after) return deadline;
  if (timeout.currentAfterTicks !== timeout.afterTicks) assertFailed(`timeout ${timeout.name}: a plain period repeats`);
  return deadline + (Math.floor((after - deadline) / timeout.afterTicks) + 1) * timeout.afterTicks;
}
