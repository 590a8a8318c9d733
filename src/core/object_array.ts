// Arrays of objects whose V8 elements kind is fixed from the start.

/**
 * An empty array whose elements are objects from the start, in V8's terms: `[]` begins as an array
 * of small integers and changes kind at its first push of an object (or null), which throws away
 * the code compiled for the other kind. The replica's warm-up (cli/ledger_warm_up.ts) compiles the
 * hot paths against arrays that hold pages; a fresh replica's empty ones then match them.
 */
export function emptyObjectArray<T extends object | null>(): T[] {
  const array: T[] = [null as T];
  array.pop();
  return array;
}
