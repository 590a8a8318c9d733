// Always-on assertions. An assertion failure is a bug in Scarab's own code, never a user error:
// user errors (bad flags, bad files, bad network bytes) are reported with a clear message instead.

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: boolean, message?: string): asserts condition {
  if (!condition) throw new AssertionError(message ?? "assertion failed");
}

/**
 * Throws an AssertionError whose message is built only on failure: `if (!ok) assertFailed(`…${x}`)`.
 * Hot paths use it instead of `assert(ok, `…${x}`)`, which formats the message on every call.
 */
export function assertFailed(message: string): never {
  throw new AssertionError(message);
}

/** Marks code that must not be reached; the argument makes `switch` exhaustiveness a type error. */
export function unreachable(value?: never, message?: string): never {
  throw new AssertionError(message ?? `unreachable: ${String(value)}`);
}

/**
 * The replica cannot go on for a reason outside its code (the storage limit or the disk is full):
 * the process stops with this message and no stack trace, and nothing acknowledged is lost — the
 * WAL holds it, and a restart with the cause removed replays it.
 */
export class FatalError extends Error {
  override name = "FatalError";
}
