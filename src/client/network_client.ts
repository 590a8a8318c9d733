// createClient(): the network client, API-compatible with tigerbeetle-node 0.17.9: the client
// core (client_core.ts: the VSR client, the official checks, coalescing) over TCP connections.
//
// Differences from the official client, both Scarab's own error codes: it does not retry forever
// against a replica of another cluster (every call fails with ERR_CLUSTER_MISMATCH, naming the
// replica and both clusters), and it offers an opt-in per-call timeout (ERR_REQUEST_TIMEOUT).
import { productionConfig } from "../core/config.js";
import { formatAddress, TcpClientBus, type Address } from "../io/tcp_client_bus.js";
import { checkTimeout, ClientCore, clientMethods, type Client, type ClientTransport, type TransportHandlers } from "./client_core.js";
import { ErrorCodes, RequestError } from "./errors.js";
import { parseClientArgs } from "./validation.js";

export type { Client } from "./client_core.js";

export interface ClientInitArgs {
  cluster_id: bigint;
  replica_addresses: Array<string | number>;
  /**
   * Scarab only, opt-in; the default (undefined) is no timeout, as in tigerbeetle-node. A call
   * not answered within this many milliseconds rejects with ERR_REQUEST_TIMEOUT. If its request
   * was already sent, the outcome is unknown: a VSR session has one request in flight and must
   * not skip it, so the client keeps that request going in the background (it may still commit)
   * and later calls queue behind it. A call still waiting to be sent is dropped: it never runs.
   */
  request_timeout_ms?: number;
}

/** TCP connections to every replica (tcp_client_bus.ts). */
function tcpTransport(cluster: bigint, addresses: Address[], handlers: TransportHandlers): ClientTransport {
  const bus = new TcpClientBus({
    addresses, messageSizeMax: productionConfig.messageSizeMax, cluster,
    onMessage: handlers.onMessage,
    onClusterMismatch: (address, replicaCluster) => handlers.fail(new RequestError(ErrorCodes.ERR_CLUSTER_MISMATCH,
      `cluster mismatch: the replica at ${formatAddress(address)} belongs to cluster ${replicaCluster}, ` +
      `this client was created for cluster ${cluster}`)),
  });
  return { bus, replicaCount: addresses.length, setRef: (ref) => bus.setRef(ref), close: () => bus.close() };
}

export function createClient(args: ClientInitArgs): Client {
  const { cluster, addresses } = parseClientArgs(args);
  const timeoutMs = checkTimeout(args.request_timeout_ms);
  return clientMethods(new ClientCore(cluster, (handlers) => tcpTransport(cluster, addresses, handlers), timeoutMs));
}
