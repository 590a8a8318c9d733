// The workload of the multi-process fault test, through the official tigerbeetle-node 0.17.9
// client: N accounts, then a stream of transfers between random accounts while faults happen,
// interleaved with lookups of already acknowledged transfers (a read that misses one is a lost
// write, seen at once). Every transfer is remembered with what the cluster said about it:
// - acknowledged: its create returned `created` (0xFFFFFFFF): it must exist, forever;
// - maybe: its request failed (client evicted or closed) or never completed: it may or may not
//   exist; after the run it is looked up and, if it exists, added to the model;
// - failed: any other status (none is expected: the accounts have no balance limits).
// The model (expected debits_posted / credits_posted per account) comes from acknowledged and
// found-maybe transfers only, and is compared with the cluster's accounts at the end.
//
// The official client retries a request until it gets a reply (it has no request timeout), so a
// request only "fails" by eviction; the drain at the end bounds how long we wait for the rest.
//
// One lookup at a time, of at most 25 ids: with --development (4 KiB messages) a Scarab replica
// evicts a client whose lookup's worst-case reply exceeds one message (src/replica/protocol/
// request.ts), and the official client packs concurrent lookups into one multi-batch request, so
// four concurrent lookups of 25 ids (a 100-transfer reply) get the client evicted.
import { CreateAccountStatus, CreateTransferStatus, createClient, id, type Account, type Client, type Transfer } from "tigerbeetle-node";
import type { Random } from "./random.js";
import { sleep } from "./cluster.js";

export interface WorkloadOptions {
  readonly clusterId: bigint;
  readonly addresses: readonly string[];
  readonly accounts: number;
  /** Events per request: 25 fits the --development 4 KiB message (29 transfers at most). */
  readonly batchSize: number;
  /** Concurrent requests in flight (the client may pack them into one multi-batch request). */
  readonly lanes: number;
  /** Transfers to create over the load period. */
  readonly transferBudget: number;
  readonly random: Random;
}

type State = "pending" | "acknowledged" | "maybe" | "failed";

interface Sent {
  readonly debit: number;
  readonly credit: number;
  readonly amount: bigint;
  state: State;
}

export interface WorkloadStats {
  sent: number;
  acknowledged: number;
  maybe: number;
  failed: number;
  failedStatuses: Record<string, number>;
  createRequests: number;
  lookupRequests: number;
  /** Acknowledged transfers that a lookup during the run did not return. */
  lookupMisses: number;
  requestErrors: Record<string, number>;
  clientRestarts: number;
  latencyMaxMs: number;
  /** The longest stretch with requests outstanding and none completing. */
  stallMaxMs: number;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly problems: string[];
  readonly acknowledgedChecked: number;
  readonly maybeChecked: number;
  readonly maybeFound: number;
  readonly accountsChecked: number;
}

const ledger = 1;
const code = 1;
const problemsMax = 20;

export class Workload {
  readonly stats: WorkloadStats = {
    sent: 0, acknowledged: 0, maybe: 0, failed: 0, failedStatuses: {}, createRequests: 0, lookupRequests: 0,
    lookupMisses: 0, requestErrors: {}, clientRestarts: 0, latencyMaxMs: 0, stallMaxMs: 0,
  };
  readonly problems: string[] = [];
  private client: Client;
  private readonly transfers = new Map<bigint, Sent>();
  private readonly acknowledged: bigint[] = [];
  private lanes: Promise<void>[] = [];
  private stopping = false;
  private loadStart = 0;
  private loadMs = 1;
  private inFlight = 0;
  /** One lookup at a time: see the header comment. */
  private lookupBusy = false;
  /** Evicted clients are already torn down by the client library: never destroy() them. */
  private lastCompletion = Date.now();

  constructor(private readonly options: WorkloadOptions) {
    this.client = this.newClient();
  }

  /** Creates the accounts 1..N (bounded by timeoutMs: the cluster must be up). */
  async createAccounts(timeoutMs: number): Promise<void> {
    const zero = { debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
      user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, flags: 0, timestamp: 0n };
    for (let first = 1; first <= this.options.accounts; first += this.options.batchSize) {
      const batch: Account[] = [];
      for (let i = first; i < first + this.options.batchSize && i <= this.options.accounts; i++) {
        batch.push({ ...zero, id: BigInt(i), ledger, code });
      }
      const results = await withTimeout(this.client.createAccounts(batch), timeoutMs, "create_accounts");
      results.forEach((result, index) => {
        if (result.status !== CreateAccountStatus.created && result.status !== CreateAccountStatus.exists) {
          throw new Error(`create_accounts: account ${batch[index]?.id}: status ${result.status}`);
        }
      });
    }
  }

  /** Starts the lanes: transfers at the budget's pace over loadMs, lookups in between. */
  start(loadMs: number): void {
    this.loadStart = Date.now();
    this.loadMs = loadMs;
    this.lanes = Array.from({ length: this.options.lanes }, () => this.lane());
  }

  stop(): void {
    this.stopping = true;
  }

  get outstanding(): number {
    return this.inFlight;
  }

  /** Waits for the lanes to finish their last request; false if they did not within timeoutMs. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stop();
    const done = await Promise.race([Promise.all(this.lanes).then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      // The requests still in flight may or may not execute.
      for (const sent of this.transfers.values()) if (sent.state === "pending") this.mark(sent, "maybe");
    }
    return done;
  }

  /** Looks up every transfer and account and compares them with the model (bounded by timeoutMs). */
  async verify(timeoutMs: number): Promise<VerifyResult> {
    const deadline = Date.now() + timeoutMs;
    const problems: string[] = [];
    const note = (problem: string) => problems.length < problemsMax && problems.push(problem);
    for (const sent of this.transfers.values()) if (sent.state === "pending") this.mark(sent, "maybe");
    const maybe = [...this.transfers].filter(([, sent]) => sent.state === "maybe").map(([key]) => key);
    const acknowledged = [...this.transfers].filter(([, sent]) => sent.state === "acknowledged").map(([key]) => key);
    const found = new Set<bigint>();
    let missing = 0;
    let mismatched = 0;
    const check = (ids: bigint[], onMissing: (transferId: bigint) => void) => this.lookupAll(ids, deadline, (transferId, transfer) => {
      if (transfer === undefined) return onMissing(transferId);
      const sent = this.transfers.get(transferId)!;
      if (transfer.debit_account_id !== BigInt(sent.debit) || transfer.credit_account_id !== BigInt(sent.credit) ||
        transfer.amount !== sent.amount || transfer.ledger !== ledger || transfer.code !== code) {
        mismatched++;
        note(`transfer ${transferId} differs: ${sent.debit}→${sent.credit} ${sent.amount} sent, ` +
          `${transfer.debit_account_id}→${transfer.credit_account_id} ${transfer.amount} stored`);
      }
      found.add(transferId);
    });
    try {
      await check(maybe, () => {});
      await check(acknowledged, (transferId) => {
        missing++;
        note(`acknowledged transfer ${transferId} does not exist`);
      });
      if (missing > 0) problems.unshift(`${missing} of ${acknowledged.length} acknowledged transfers are missing`);
      if (mismatched > 0) problems.unshift(`${mismatched} transfers differ from what was sent`);
      const model = this.model(found);
      let accountsChecked = 0;
      const ids = Array.from({ length: this.options.accounts }, (_, i) => BigInt(i + 1));
      for (let i = 0; i < ids.length; i += this.options.batchSize) {
        const batch = ids.slice(i, i + this.options.batchSize);
        const accounts = await withTimeout(this.client.lookupAccounts(batch), deadline - Date.now(), "lookup_accounts");
        for (const accountId of batch) {
          const account = accounts.find((a) => a.id === accountId);
          const expected = model.get(Number(accountId))!;
          accountsChecked++;
          if (account === undefined) note(`account ${accountId} does not exist`);
          else if (account.debits_posted !== expected.debits || account.credits_posted !== expected.credits) {
            note(`account ${accountId}: debits_posted ${account.debits_posted} credits_posted ${account.credits_posted}, ` +
              `model ${expected.debits} / ${expected.credits}`);
          }
        }
      }
      if (this.stats.lookupMisses > 0) problems.unshift(`${this.stats.lookupMisses} lookups during the run missed an acknowledged transfer`);
      return { ok: problems.length === 0, problems, acknowledgedChecked: acknowledged.length, maybeChecked: maybe.length,
        maybeFound: maybe.filter((m) => found.has(m)).length, accountsChecked };
    } catch (error) {
      problems.unshift(`verification did not finish: ${String(error)}`);
      return { ok: false, problems, acknowledgedChecked: 0, maybeChecked: maybe.length, maybeFound: 0, accountsChecked: 0 };
    }
  }

  /** Closes the client, unless requests are still in flight (destroy() then may panic: #2636). */
  destroy(): void {
    if (this.inFlight === 0) this.client.destroy();
  }

  /** A new client session for the checks, the old one left alone (its requests are in flight). */
  renewClient(): void {
    this.client = this.newClient();
  }

  private newClient(): Client {
    return createClient({ cluster_id: this.options.clusterId, replica_addresses: [...this.options.addresses] });
  }

  private async lane(): Promise<void> {
    const { random, batchSize } = this.options;
    while (!this.stopping) {
      const elapsed = Math.min(1, (Date.now() - this.loadStart) / this.loadMs);
      const allowance = Math.min(this.options.transferBudget, Math.ceil(this.options.transferBudget * elapsed) + batchSize);
      if (this.stats.sent + batchSize <= allowance) await this.createBatch();
      else await this.lookupBatch();
      await sleep(random.int(0, 10));
    }
  }

  private async createBatch(): Promise<void> {
    const { random, batchSize, accounts } = this.options;
    const batch: Transfer[] = [];
    for (let i = 0; i < batchSize; i++) {
      const debit = random.int(1, accounts);
      const credit = ((debit - 1 + random.int(1, accounts - 1)) % accounts) + 1;
      const amount = BigInt(random.int(1, 1000));
      const transferId = id();
      this.transfers.set(transferId, { debit, credit, amount, state: "pending" });
      batch.push({ id: transferId, debit_account_id: BigInt(debit), credit_account_id: BigInt(credit), amount,
        pending_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, timeout: 0, ledger, code, flags: 0, timestamp: 0n });
    }
    this.stats.sent += batch.length;
    this.stats.createRequests++;
    const results = await this.request(() => this.client.createTransfers(batch));
    batch.forEach((transfer, index) => {
      const sent = this.transfers.get(transfer.id)!;
      if (results === null) return this.mark(sent, "maybe");
      const status = results[index]?.status;
      if (status === CreateTransferStatus.created) {
        this.mark(sent, "acknowledged");
        this.acknowledged.push(transfer.id);
      } else {
        this.mark(sent, "failed");
        const name = status === undefined ? "no result" : CreateTransferStatus[status] ?? String(status);
        this.stats.failedStatuses[name] = (this.stats.failedStatuses[name] ?? 0) + 1;
        if (this.problems.length < problemsMax) this.problems.push(`transfer ${transfer.id}: status ${name} (expected created)`);
      }
    });
  }

  private async lookupBatch(): Promise<void> {
    const { random, batchSize } = this.options;
    if (this.acknowledged.length === 0 || this.lookupBusy) return sleep(20);
    this.lookupBusy = true;
    try {
      await this.lookupSample(random, batchSize);
    } finally {
      this.lookupBusy = false;
    }
  }

  private async lookupSample(random: Random, batchSize: number): Promise<void> {
    // Acknowledged before this request was sent: a linearizable read must return every one.
    const ids = new Set<bigint>();
    for (let i = 0; i < batchSize * 2 && ids.size < batchSize; i++) ids.add(random.pick(this.acknowledged));
    const batch = [...ids];
    this.stats.lookupRequests++;
    const results = await this.request(() => this.client.lookupTransfers(batch));
    if (results === null) return;
    const returned = new Set(results.map((t) => t.id));
    for (const transferId of batch) {
      if (returned.has(transferId)) continue;
      this.stats.lookupMisses++;
      if (this.problems.length < problemsMax) this.problems.push(`lookup during the run: acknowledged transfer ${transferId} missing`);
    }
  }

  /** One request; null if it failed (an eviction or a closed client: a new client takes over). */
  private async request<T>(send: () => Promise<T>): Promise<T | null> {
    const client = this.client;
    const started = Date.now();
    this.inFlight++;
    const stallWatch = setInterval(() => this.noteStall(), 500);
    try {
      return await send();
    } catch (error) {
      const name = (error as { code?: string }).code ?? String(error);
      this.stats.requestErrors[name] = (this.stats.requestErrors[name] ?? 0) + 1;
      if (this.client === client) {
        if (name === "ERR_CLIENT_EVICTED" && this.problems.length < problemsMax) {
          this.problems.push("the cluster evicted the workload's client (see the client's stderr for the reason)");
        }
        // tigerbeetle-node 0.17.9 tears an evicted client down itself; destroy() on it panics
        // ("attempt to unwrap error: ClientInvalid") and aborts the process.
        if (name !== "ERR_CLIENT_EVICTED") client.destroy();
        this.stats.clientRestarts++;
        this.client = this.newClient();
      }
      return null;
    } finally {
      clearInterval(stallWatch);
      this.inFlight--;
      this.stats.latencyMaxMs = Math.max(this.stats.latencyMaxMs, Date.now() - started);
      this.noteStall();
      this.lastCompletion = Date.now();
    }
  }

  private noteStall(): void {
    if (this.inFlight > 0) this.stats.stallMaxMs = Math.max(this.stats.stallMaxMs, Date.now() - this.lastCompletion);
  }

  private mark(sent: Sent, state: State): void {
    if (sent.state === state) return;
    if (sent.state !== "pending") this.stats[sent.state]--;
    sent.state = state;
    if (state !== "pending") this.stats[state]++;
  }

  private async lookupAll(ids: bigint[], deadline: number, each: (transferId: bigint, transfer: Transfer | undefined) => void): Promise<void> {
    for (let i = 0; i < ids.length; i += this.options.batchSize) {
      const batch = ids.slice(i, i + this.options.batchSize);
      const results = await withTimeout(this.client.lookupTransfers(batch), deadline - Date.now(), "lookup_transfers");
      const byId = new Map(results.map((t) => [t.id, t]));
      for (const transferId of batch) each(transferId, byId.get(transferId));
    }
  }

  private model(found: Set<bigint>): Map<number, { debits: bigint; credits: bigint }> {
    const model = new Map<number, { debits: bigint; credits: bigint }>();
    for (let i = 1; i <= this.options.accounts; i++) model.set(i, { debits: 0n, credits: 0n });
    for (const [transferId, sent] of this.transfers) {
      if (sent.state !== "acknowledged" && !(sent.state === "maybe" && found.has(transferId))) continue;
      model.get(sent.debit)!.debits += sent.amount;
      model.get(sent.credit)!.credits += sent.amount;
    }
    return model;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
