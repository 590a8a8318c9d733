// The MessageBus seam (DESIGN.md "The seam"). Messages are a 256-byte header plus body,
// checksummed (spec/wire.md). The bus copies bytes at the boundary: after `send*` returns, the
// caller may reuse its buffer, and a receiver owns the bytes it is handed until it returns.

export interface MessageBus {
  sendToReplica(replica: number, message: Uint8Array): void;
  sendToClient(client: bigint, message: Uint8Array): void;
  /**
   * Optional: sendToReplica for a message the caller never modifies again, which the bus may keep
   * without copying (a broadcast prepare is up to 1 MiB per backup). Buses without it copy.
   */
  sendToReplicaShared?(replica: number, message: Uint8Array): void;
}

/** Implemented by whoever owns a bus endpoint (a replica or a client). */
export interface MessageHandler {
  onMessage(message: Uint8Array): void;
}
