// Errors of the public API, named and worded as in tigerbeetle-node 0.17.9, plus Scarab's own
// (marked below): conditions the official client does not report (it retries them forever) and
// opt-in behaviour it lacks.

export const ErrorCodes = {
  ERR_CLIENT_CLOSED: "ERR_CLIENT_CLOSED",
  ERR_CLIENT_EVICTED: "ERR_CLIENT_EVICTED",
  ERR_CLIENT_RELEASE_TOO_LOW: "ERR_CLIENT_RELEASE_TOO_LOW",
  ERR_CLIENT_RELEASE_TOO_HIGH: "ERR_CLIENT_RELEASE_TOO_HIGH",
  ERR_TOO_MUCH_DATA: "ERR_TOO_MUCH_DATA",
  /** Scarab: a replica belongs to another cluster than the client's cluster_id (a misconfiguration). */
  ERR_CLUSTER_MISMATCH: "ERR_CLUSTER_MISMATCH",
  /**
   * Scarab: the call took longer than the client's opt-in `request_timeout_ms`. If it had been
   * sent, its outcome is unknown: the request may still commit (see createClient).
   */
  ERR_REQUEST_TIMEOUT: "ERR_REQUEST_TIMEOUT",
} as const;
export type ErrorCodes = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class RequestError extends Error {
  code: ErrorCodes;

  /** `message`: a more specific wording than errorMessage(code), e.g. naming the replica. */
  constructor(code: ErrorCodes, message: string = RequestError.errorMessage(code)) {
    super(message);
    this.name = "RequestError";
    this.code = code;
  }

  static errorMessage(code: ErrorCodes): string {
    switch (code) {
      case ErrorCodes.ERR_CLIENT_CLOSED: return "Client was closed.";
      case ErrorCodes.ERR_CLIENT_EVICTED: return "Client was evicted.";
      case ErrorCodes.ERR_CLIENT_RELEASE_TOO_LOW: return "Client was evicted: release too old.";
      case ErrorCodes.ERR_CLIENT_RELEASE_TOO_HIGH: return "Client was evicted: release too new.";
      case ErrorCodes.ERR_TOO_MUCH_DATA: return "Too much data was sent or requested in this batch.";
      case ErrorCodes.ERR_CLUSTER_MISMATCH: return "A replica belongs to another cluster.";
      case ErrorCodes.ERR_REQUEST_TIMEOUT:
        return "Request timed out: its outcome is unknown, it may still commit.";
      default: throw new Error("Unknown error code."); // as the official client, for a code it does not know
    }
  }
}
