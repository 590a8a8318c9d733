// Argument checks of the public client API that come before any event is encoded, worded, typed
// and ordered as in tigerbeetle-node 0.17.9 (found by calling it, see
// test/client/validation_compat.test.ts). Field checks of each event live with the encoders
// (src/core/layouts.ts, via src/core/ledger/object_codec.ts), so both clients share them.
import { types } from "node:util";
import { batchEventsMax } from "../core/config.js";
import { checkU128 } from "../core/layouts.js";
import { parseAddress, type Address } from "../io/tcp_client_bus.js";
import { ErrorCodes, RequestError } from "./errors.js";

/** The most replicas a client addresses (TigerBeetle's replicas_max). */
const replicaAddressesMax = 6;

/**
 * Why a batch argument is refused before its events are read, or null. The official client asks
 * napi_is_array, for which a Proxy (even of an array) and a typed array are not arrays; then it
 * refuses more events than one request may carry, before it looks at any of them.
 */
export function batchError(batch: unknown): Error | null {
  if (!Array.isArray(batch) || types.isProxy(batch)) return new Error("Array argument must be an [object Array].");
  if (batch.length > batchEventsMax) return new RequestError(ErrorCodes.ERR_TOO_MUCH_DATA);
  return null;
}

export interface ClientArgs {
  cluster_id: bigint;
  replica_addresses: Array<string | number>;
}

/**
 * createClient()'s arguments, read in the official order (cluster_id, then the addresses joined
 * with ","), so that a missing `args` or a non-array `replica_addresses` fails with the same
 * TypeError, then checked as the official native init does. Two deliberate differences: a host
 * name is accepted where the official client takes IP addresses only, and port 0 is refused.
 */
export function parseClientArgs(args: ClientArgs): { cluster: bigint; addresses: Address[] } {
  const cluster = args.cluster_id;
  const joined: string = args.replica_addresses.join(",");
  checkU128(cluster, "cluster_id");
  if (joined.length === 0) throw new Error("replica_addresses must not be empty");
  const parts = joined.split(",");
  if (parts.length > replicaAddressesMax) throw new Error("Too many replica addresses.");
  return { cluster, addresses: parts.map(parseReplicaAddress) };
}

function parseReplicaAddress(text: string): Address {
  // parseAddress trims; the official client refuses surrounding white space and empty entries.
  if (text.length === 0 || text.trim() !== text) throw new Error("Invalid replica address.");
  try {
    return parseAddress(text);
  } catch {
    throw new Error("Invalid replica address.");
  }
}
