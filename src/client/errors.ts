// Errors of the public API, named and worded as in tigerbeetle-node 0.17.9.

export const ErrorCodes = {
  ERR_CLIENT_CLOSED: "ERR_CLIENT_CLOSED",
  ERR_CLIENT_EVICTED: "ERR_CLIENT_EVICTED",
  ERR_CLIENT_RELEASE_TOO_LOW: "ERR_CLIENT_RELEASE_TOO_LOW",
  ERR_CLIENT_RELEASE_TOO_HIGH: "ERR_CLIENT_RELEASE_TOO_HIGH",
  ERR_TOO_MUCH_DATA: "ERR_TOO_MUCH_DATA",
} as const;
export type ErrorCodes = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class RequestError extends Error {
  code: ErrorCodes;

  constructor(code: ErrorCodes) {
    super(RequestError.errorMessage(code));
    this.name = "RequestError";
    this.code = code;
  }

  static errorMessage(code: ErrorCodes): string {
    switch (code) {
      case ErrorCodes.ERR_CLIENT_CLOSED: return "Client was closed.";
      case ErrorCodes.ERR_CLIENT_EVICTED: return "Client was evicted.";
      case ErrorCodes.ERR_CLIENT_RELEASE_TOO_LOW: return "Client was evicted: release too old.";
      case ErrorCodes.ERR_CLIENT_RELEASE_TOO_HIGH: return "Client was evicted: release too new.";
      case ErrorCodes.ERR_TOO_MUCH_DATA: return "Too much data provided on this batch.";
    }
  }
}
