/** A mistake in how the command was called: reported as one clear line plus usage, exit code 1. */
export class UsageError extends Error {
  override name = "UsageError";
}
