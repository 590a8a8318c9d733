// The fields of every object the client API takes, with their types, in the order
// tigerbeetle-node 0.17.9 reads them (observed with a Proxy), and the values to try on each:
// validation_compat.test.ts generates its cases from this table. The table states facts about
// the official client's inputs, not about our code, so that the differential test finds what the
// official client and ours treat differently.

export type Kind = "u128" | "u64" | "u32" | "u16";
export interface Field {
  readonly name: string;
  readonly kind: Kind;
}

const f = (name: string, kind: Kind): Field => ({ name, kind });

export const accountFields: readonly Field[] = [
  f("id", "u128"), f("debits_pending", "u128"), f("debits_posted", "u128"), f("credits_pending", "u128"),
  f("credits_posted", "u128"), f("user_data_128", "u128"), f("user_data_64", "u64"), f("user_data_32", "u32"),
  f("reserved", "u32"), f("ledger", "u32"), f("code", "u16"), f("flags", "u16"), f("timestamp", "u64"),
];

export const transferFields: readonly Field[] = [
  f("id", "u128"), f("debit_account_id", "u128"), f("credit_account_id", "u128"), f("amount", "u128"),
  f("pending_id", "u128"), f("user_data_128", "u128"), f("user_data_64", "u64"), f("user_data_32", "u32"),
  f("timeout", "u32"), f("ledger", "u32"), f("code", "u16"), f("flags", "u16"), f("timestamp", "u64"),
];

/** AccountFilter: its reserved bytes are not read; flags are a u32 here, not a u16. */
export const accountFilterFields: readonly Field[] = [
  f("account_id", "u128"), f("user_data_128", "u128"), f("user_data_64", "u64"), f("user_data_32", "u32"),
  f("code", "u16"), f("timestamp_min", "u64"), f("timestamp_max", "u64"), f("limit", "u32"), f("flags", "u32"),
];

export const queryFilterFields: readonly Field[] = [
  f("user_data_128", "u128"), f("user_data_64", "u64"), f("user_data_32", "u32"), f("ledger", "u32"),
  f("code", "u16"), f("timestamp_min", "u64"), f("timestamp_max", "u64"), f("limit", "u32"), f("flags", "u32"),
];

/** Lookup ids are u128 elements of the batch, named "lookup" in errors. */
export const lookupField: Field = f("lookup", "u128");

const bits: Record<Kind, number> = { u128: 128, u64: 64, u32: 32, u16: 16 };

/** A field left out of the object (not the same as present and undefined). */
export const missing = Symbol("missing");
export type Value = unknown;

/** Values of the wrong type for some or all kinds. */
const typeValues: ReadonlyArray<[string, Value]> = [
  ["missing", missing], ["undefined", undefined], ["null", null], ["string", "1"], ["boolean", true],
  ["object", {}], ["array", [1n]], ["boxed number", new Number(1)], ["boxed bigint", Object(1n)],
  ["function", () => 1n],
];

/** Around each kind's bounds, as bigint and as number, so every field sees every other's limits. */
function boundValues(kind: Kind): Array<[string, Value]> {
  const max = (1n << BigInt(bits[kind])) - 1n;
  const values: Array<[string, Value]> = [
    [`${kind} max (bigint)`, max], [`${kind} max+1 (bigint)`, max + 1n],
    [`${kind} -max-1 (bigint)`, -max - 1n],
  ];
  if (kind !== "u128") values.push([`${kind} max (number)`, Number(max)], [`${kind} max+1 (number)`, Number(max + 1n)]);
  return values;
}

const numberValues: ReadonlyArray<[string, Value]> = [
  ["0", 0], ["1", 1], ["-1", -1], ["-0", -0], ["1.5", 1.5], ["65535.9", 65535.9], ["-65536", -65536],
  ["2^32 + 65536", 2 ** 32 + 65536], ["2^53", 2 ** 53], ["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity],
  ["0n", 0n], ["1n", 1n], ["-1n", -1n], ["2^200 (bigint)", 1n << 200n], ["-(2^200) (bigint)", -(1n << 200n)],
];

/** Every value tried on every field, whatever its kind: [label, value]. */
export const fieldValues: ReadonlyArray<[string, Value]> = [
  ...typeValues, ...numberValues, ...(["u16", "u32", "u64", "u128"] as const).flatMap(boundValues),
];

/** A value every client accepts for a field of this kind (used to build valid objects). */
export function validValue(field: Field): Value {
  if (field.name === "limit") return 10;
  if (field.name === "ledger" || field.name === "code") return 1;
  if (field.name === "id" || field.name === "account_id") return 7n;
  return field.kind === "u128" || field.kind === "u64" ? 0n : 0;
}

/** A wrong-typed value for a field of this kind (for field-order cases). */
export function wrongTypeValue(field: Field): Value {
  return field.kind === "u128" || field.kind === "u64" ? 1 : 1n;
}

export function validObject(fields: readonly Field[]): Record<string, Value> {
  return Object.fromEntries(fields.map((field) => [field.name, validValue(field)]));
}

/** A valid object with one field replaced (or left out). */
export function objectWith(fields: readonly Field[], name: string, value: Value): Record<string, Value> {
  const object = validObject(fields);
  if (value === missing) delete object[name];
  else object[name] = value;
  return object;
}
