// createClient(): the network client, API-compatible with tigerbeetle-node 0.17.9. It wraps the
// IO-agnostic VSR client (src/replica/client.ts, the same code the VOPR runs) with TCP
// connections and a real 10 ms tick. Each call is one request with one batch; requests queue
// behind the one in flight, as in the official client. Unlike the official client, it does not
// retry forever against a replica of another cluster: it fails every call with
// ERR_CLUSTER_MISMATCH, naming the replica and both clusters.
import { randomBytes } from "node:crypto";
import { headerSize, productionConfig, releaseCurrent } from "../core/config.js";
import { EvictionReason } from "../core/command.js";
import type {
  Account, AccountBalance, AccountFilter, CreateAccountResult, CreateTransferResult, QueryFilter,
  Transfer,
} from "../core/layouts.js";
import { Prng } from "../core/prng.js";
import { decodeResults, encodeBatch, operationCodecs, type OperationCodec } from "../core/ledger/object_codec.js";
import { encodeMultiBatch } from "../core/multi_batch.js";
import { VsrClient, type ClientFailure } from "../replica/client.js";
import { RealTime } from "../io/real_time.js";
import { formatAddress, TcpClientBus, type Address } from "../io/tcp_client_bus.js";
import { ErrorCodes, RequestError } from "./errors.js";
import { batchError, parseClientArgs } from "./validation.js";

export interface ClientInitArgs {
  cluster_id: bigint;
  replica_addresses: Array<string | number>;
}

export interface Client {
  createAccounts: (batch: Account[]) => Promise<CreateAccountResult[]>;
  createTransfers: (batch: Transfer[]) => Promise<CreateTransferResult[]>;
  lookupAccounts: (batch: bigint[]) => Promise<Account[]>;
  lookupTransfers: (batch: bigint[]) => Promise<Transfer[]>;
  getAccountTransfers: (filter: AccountFilter) => Promise<Transfer[]>;
  getAccountBalances: (filter: AccountFilter) => Promise<AccountBalance[]>;
  queryAccounts: (filter: QueryFilter) => Promise<Account[]>;
  queryTransfers: (filter: QueryFilter) => Promise<Transfer[]>;
  destroy: () => void;
}

const tickMs = 10;
/** Calls that may wait behind the one in flight. */
const queueMax = 1024;

function failureError(failure: ClientFailure): RequestError {
  switch (failure) {
    case "closed": return new RequestError(ErrorCodes.ERR_CLIENT_CLOSED);
    case EvictionReason.client_release_too_low: return new RequestError(ErrorCodes.ERR_CLIENT_RELEASE_TOO_LOW);
    case EvictionReason.client_release_too_high: return new RequestError(ErrorCodes.ERR_CLIENT_RELEASE_TOO_HIGH);
    default: return new RequestError(ErrorCodes.ERR_CLIENT_EVICTED);
  }
}

export function createClient(args: ClientInitArgs): Client {
  const { addresses } = parseClientArgs(args);
  const time = new RealTime();
  let vsr: VsrClient | null = null;
  /** Set when a replica turns out to be of another cluster: every call fails with it. */
  let mismatch: RequestError | null = null;
  let destroyed = false;
  const bus = new TcpClientBus({
    addresses, messageSizeMax: productionConfig.messageSizeMax, cluster: args.cluster_id,
    onMessage: (message) => vsr?.onMessage(message),
    onClusterMismatch: (address, cluster) => failClusterMismatch(address, cluster),
  });
  const clientId = BigInt("0x" + randomBytes(16).toString("hex")) || 1n;
  vsr = new VsrClient({
    cluster: args.cluster_id, replicaCount: addresses.length, clientId, release: releaseCurrent,
    messageSizeMax: productionConfig.messageSizeMax, queueMax, time, bus,
    prng: new Prng(BigInt("0x" + randomBytes(8).toString("hex"))),
  });
  const client = vsr;
  let inFlight = 0;
  const timer = setInterval(() => {
    time.tick();
    client.tick();
  }, tickMs);
  // Keep the process alive only while calls are outstanding, so an idle client never pins it.
  const updateRef = () => {
    if (inFlight > 0) timer.ref();
    else timer.unref();
    bus.setRef(inFlight > 0);
  };
  updateRef();

  function stop(): void {
    clearInterval(timer);
    client.close(); // fails every pending call
    bus.close();
  }

  function failClusterMismatch(address: Address, cluster: bigint): void {
    if (mismatch !== null || destroyed) return;
    mismatch = new RequestError(ErrorCodes.ERR_CLUSTER_MISMATCH, `cluster mismatch: the replica at ` +
      `${formatAddress(address)} belongs to cluster ${cluster}, this client was created for cluster ${args.cluster_id}`);
    stop();
  }

  /** The VSR client's failure, or the cluster mismatch that closed it (until destroy()). */
  function errorOf(failure: ClientFailure): RequestError {
    return failure === "closed" && mismatch !== null && !destroyed ? mismatch : failureError(failure);
  }

  /** Checks as the official client does, in its order; a filter is a batch of one, not checked as an array. */
  function call<Event, Result>(codec: OperationCodec<Event, Result>, events: readonly Event[], isBatch = true): Promise<Result[]> {
    if (client.failure !== null) return Promise.reject(errorOf(client.failure));
    const error = isBatch ? batchError(events) : null;
    if (error !== null) return Promise.reject(error);
    let body: Uint8Array;
    try {
      body = encodeMultiBatch([encodeBatch(codec, events)], codec.eventSize);
    } catch (thrown) {
      return Promise.reject(thrown);
    }
    if (headerSize + body.length > productionConfig.messageSizeMax) {
      return Promise.reject(new RequestError(ErrorCodes.ERR_TOO_MUCH_DATA));
    }
    return new Promise<Result[]>((resolve, reject) => {
      inFlight += 1;
      updateRef();
      client.request(codec.operation, body, (failure, reply) => {
        inFlight -= 1;
        updateRef();
        if (failure !== null) return reject(errorOf(failure));
        const results = decodeResults(codec, reply!.subarray(headerSize));
        if (typeof results === "string") return reject(new Error(`malformed reply from the cluster: ${results}`));
        resolve(results[0] ?? []);
      });
    });
  }
  function filterCall<Filter extends AccountFilter | QueryFilter, Result>(codec: OperationCodec<Filter, Result>, filter: Filter): Promise<Result[]> {
    return call(codec, [filter], false); // any limit: the cluster caps it
  }

  return {
    createAccounts: (batch) => call(operationCodecs.createAccounts, batch),
    createTransfers: (batch) => call(operationCodecs.createTransfers, batch),
    lookupAccounts: (batch) => call(operationCodecs.lookupAccounts, batch),
    lookupTransfers: (batch) => call(operationCodecs.lookupTransfers, batch),
    getAccountTransfers: (filter) => filterCall(operationCodecs.getAccountTransfers, filter),
    getAccountBalances: (filter) => filterCall(operationCodecs.getAccountBalances, filter),
    queryAccounts: (filter) => filterCall(operationCodecs.queryAccounts, filter),
    queryTransfers: (filter) => filterCall(operationCodecs.queryTransfers, filter),
    destroy: () => {
      destroyed = true;
      stop();
    },
  };
}
