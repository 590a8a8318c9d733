// The statement language of `scarab repl`, TigerBeetle's REPL syntax: a pure parser from text to
// statements, or to the first error with its position. One statement is
//   <operation> <object> [, <object> ...] ;
// and an object is whitespace-separated `field=value` pairs. Values are integers (decimal, or
// 0x / 0o / 0b, with `_` between digits; `-N` means the field's maximum minus N, so `amount=-0`
// is amount_max) or, for `flags`, `|`-joined flag names.
import { batchEventsMax } from "../core/config.js";
import {
  AccountFilterFlags, AccountFlags, QueryFilterFlags, TransferFlags, type Account, type AccountFilter,
  type QueryFilter, type Transfer,
} from "../core/layouts.js";

export type Operation =
  | "create_accounts" | "create_transfers" | "lookup_accounts" | "lookup_transfers"
  | "get_account_transfers" | "get_account_balances" | "query_accounts" | "query_transfers";

export type Statement =
  | { readonly operation: "help" }
  | { readonly operation: "create_accounts"; readonly events: Account[] }
  | { readonly operation: "create_transfers"; readonly events: Transfer[] }
  | { readonly operation: "lookup_accounts" | "lookup_transfers"; readonly events: bigint[] }
  | { readonly operation: "get_account_transfers" | "get_account_balances"; readonly events: [AccountFilter] }
  | { readonly operation: "query_accounts" | "query_transfers"; readonly events: [QueryFilter] };

export type ParseErrorKind =
  | "unknown_operation" | "unknown_field" | "duplicate_field" | "bad_integer" | "unknown_flag"
  | "expected_key" | "expected_equals" | "expected_value" | "empty_object" | "multiple_objects"
  | "no_objects" | "missing_semicolon";

export interface ParseError {
  readonly kind: ParseErrorKind;
  readonly message: string;
  /** Offset into the input of the token at fault. */
  readonly offset: number;
}

export type ParseResult = { readonly statements: Statement[] } | { readonly error: ParseError };

/** A field's type: an unsigned integer of `bits`, or a set of named flags. */
export type FieldType = { readonly bits: 16 | 32 | 64 | 128 } | { readonly flags: Record<string, number> };

const u16 = { bits: 16 } as const;
const u32 = { bits: 32 } as const;
const u64 = { bits: 64 } as const;
const u128 = { bits: 128 } as const;

function flagNames(enumeration: Record<string, string | number>): { flags: Record<string, number> } {
  const flags: Record<string, number> = {};
  for (const [name, value] of Object.entries(enumeration)) if (typeof value === "number") flags[name] = value;
  return { flags };
}

/** The fields of each object, in TigerBeetle's order (the order lookups print them in). */
export const accountFields: Readonly<Record<string, FieldType>> = {
  id: u128, debits_pending: u128, debits_posted: u128, credits_pending: u128, credits_posted: u128,
  user_data_128: u128, user_data_64: u64, user_data_32: u32, ledger: u32, code: u16,
  flags: flagNames(AccountFlags), timestamp: u64,
};
export const transferFields: Readonly<Record<string, FieldType>> = {
  id: u128, debit_account_id: u128, credit_account_id: u128, amount: u128, pending_id: u128,
  user_data_128: u128, user_data_64: u64, user_data_32: u32, timeout: u32, ledger: u32, code: u16,
  flags: flagNames(TransferFlags), timestamp: u64,
};
export const accountBalanceFields: Readonly<Record<string, FieldType>> = {
  debits_pending: u128, debits_posted: u128, credits_pending: u128, credits_posted: u128, timestamp: u64,
};
const lookupFields: Readonly<Record<string, FieldType>> = { id: u128 };
const accountFilterFields: Readonly<Record<string, FieldType>> = {
  account_id: u128, user_data_128: u128, user_data_64: u64, user_data_32: u32, code: u16,
  timestamp_min: u64, timestamp_max: u64, limit: u32, flags: flagNames(AccountFilterFlags),
};
const queryFilterFields: Readonly<Record<string, FieldType>> = {
  user_data_128: u128, user_data_64: u64, user_data_32: u32, ledger: u32, code: u16,
  timestamp_min: u64, timestamp_max: u64, limit: u32, flags: flagNames(QueryFilterFlags),
};

type Fields = Record<string, bigint | number>;

interface OperationSpec {
  readonly fields: Readonly<Record<string, FieldType>>;
  /** Several objects per statement (a filter takes exactly one). */
  readonly batch: boolean;
  /** The object before any field is set (TigerBeetle's defaults). */
  readonly defaults: () => Fields;
  /** What one object is, for messages. */
  readonly kind: string;
  /** TigerBeetle's message for a statement without objects. */
  readonly none: string;
}

function zeroed(fields: Readonly<Record<string, FieldType>>, extra: Fields = {}): Fields {
  const object: Fields = {};
  for (const [name, type] of Object.entries(fields)) object[name] = "bits" in type && type.bits > 32 ? 0n : 0;
  return { ...object, ...extra };
}

const filterDefaults = { limit: batchEventsMax, flags: AccountFilterFlags.debits | AccountFilterFlags.credits };

export const operations: Readonly<Record<Operation, OperationSpec>> = {
  create_accounts: {
    fields: accountFields, batch: true, kind: "account", none: "No accounts to create.",
    defaults: () => zeroed(accountFields, { reserved: 0 }),
  },
  create_transfers: {
    fields: transferFields, batch: true, kind: "transfer", none: "No transfers to create.",
    defaults: () => zeroed(transferFields),
  },
  lookup_accounts: {
    fields: lookupFields, batch: true, kind: "id", none: "No accounts to lookup.", defaults: () => zeroed(lookupFields),
  },
  lookup_transfers: {
    fields: lookupFields, batch: true, kind: "id", none: "No transfers to lookup.", defaults: () => zeroed(lookupFields),
  },
  get_account_transfers: {
    fields: accountFilterFields, batch: false, kind: "account filter", none: "No account transfers to get.",
    defaults: () => zeroed(accountFilterFields, filterDefaults),
  },
  get_account_balances: {
    fields: accountFilterFields, batch: false, kind: "account filter", none: "No account balances to get.",
    defaults: () => zeroed(accountFilterFields, filterDefaults),
  },
  query_accounts: {
    fields: queryFilterFields, batch: false, kind: "query filter", none: "No accounts to query.",
    defaults: () => zeroed(queryFilterFields, { limit: batchEventsMax }),
  },
  query_transfers: {
    fields: queryFilterFields, batch: false, kind: "query filter", none: "No transfers to query.",
    defaults: () => zeroed(queryFilterFields, { limit: batchEventsMax }),
  },
};

const operationList = [...Object.keys(operations), "help"].join(", ");

class Failure extends Error {
  constructor(readonly kind: ParseErrorKind, message: string, readonly offset: number) {
    super(message);
  }
}

class Cursor {
  offset = 0;
  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.offset >= this.text.length;
  }

  peek(): string {
    return this.text[this.offset] ?? "";
  }

  skipWhitespace(): void {
    while (/\s/.test(this.peek())) this.offset += 1;
  }

  /** Letters, digits and `_`, not starting with a digit. */
  identifier(): string {
    this.skipWhitespace();
    const start = this.offset;
    while (/[A-Za-z_]/.test(this.peek()) || (this.offset > start && /[0-9]/.test(this.peek()))) this.offset += 1;
    return this.text.slice(start, this.offset);
  }

  /** Letters, digits, `_`, `-` and `|`; whitespace is allowed on either side of a `|`. */
  value(): string {
    this.skipWhitespace();
    const start = this.offset;
    for (;;) {
      if (/[A-Za-z0-9_|-]/.test(this.peek())) {
        this.offset += 1;
        continue;
      }
      const after = this.whitespaceEnd();
      const aroundBar = after > this.offset && (this.text[after] === "|" || this.text[this.offset - 1] === "|");
      if (!aroundBar || after >= this.text.length) break;
      this.offset = after;
    }
    return this.text.slice(start, this.offset);
  }

  private whitespaceEnd(): number {
    let end = this.offset;
    while (/\s/.test(this.text[end] ?? "")) end += 1;
    return end;
  }
}

const integerPattern = /^(-?)(0x[0-9a-f]+(?:_[0-9a-f]+)*|0o[0-7]+(?:_[0-7]+)*|0b[01]+(?:_[01]+)*|[0-9]+(?:_[0-9]+)*)$/i;

/** An unsigned integer of `bits`, or null if `text` is not one (TigerBeetle's parse_int). */
export function parseInteger(text: string, bits: number): bigint | null {
  const match = integerPattern.exec(text);
  if (match === null) return null;
  const digits = match[2]!.replace(/_/g, "");
  const magnitude = BigInt(/^0[xob]/i.test(digits) ? digits.slice(0, 2).toLowerCase() + digits.slice(2) : digits);
  const max = (1n << BigInt(bits)) - 1n;
  if (magnitude > max) return null;
  return match[1] === "-" ? max - magnitude : magnitude;
}

function parseFlags(text: string, offset: number, flags: Record<string, number>, field: string): number {
  let value = 0;
  let position = 0;
  for (const part of text.split("|")) {
    const name = part.trim();
    const at = offset + position + part.indexOf(name);
    position += part.length + 1;
    const bit = flags[name];
    if (name === "") throw new Failure("unknown_flag", `expected a flag name for ${field}`, at);
    if (bit === undefined) {
      const known = Object.keys(flags).filter((flag) => flag !== "none").join(", ");
      throw new Failure("unknown_flag", `unknown flag '${name}' for ${field} (known flags: ${known})`, at);
    }
    value |= bit;
  }
  return value;
}

function parseFieldValue(type: FieldType, text: string, offset: number, key: string, kind: string): bigint | number {
  if ("flags" in type) return parseFlags(text, offset, type.flags, `${kind} flags`);
  const value = parseInteger(text, type.bits);
  if (value === null) {
    throw new Failure("bad_integer", `'${text}' is not a valid value for ${key}: expected an unsigned ${type.bits}-bit integer`, offset);
  }
  return type.bits > 32 ? value : Number(value);
}

/** Parses `key=value` into `object`, or throws a Failure pointing at the bad token. */
function parsePair(cursor: Cursor, operation: Operation, object: Fields, seen: Set<string>): void {
  const spec = operations[operation];
  const keyAt = (cursor.skipWhitespace(), cursor.offset);
  const key = cursor.identifier();
  if (key === "") throw new Failure("expected_key", "expected a key-value pair such as `id=1`", keyAt);
  const type = spec.fields[key];
  if (type === undefined) {
    const known = Object.keys(spec.fields).join(", ");
    throw new Failure("unknown_field", `unknown field '${key}' for ${operation} (fields: ${known})`, keyAt);
  }
  if (seen.has(key)) throw new Failure("duplicate_field", `field '${key}' is given twice in one object`, keyAt);
  cursor.skipWhitespace();
  if (cursor.peek() !== "=") throw new Failure("expected_equals", `expected '=' after '${key}', e.g. \`${key}=1\``, cursor.offset);
  cursor.offset += 1;
  const valueAt = (cursor.skipWhitespace(), cursor.offset);
  const value = cursor.value();
  if (value === "") throw new Failure("expected_value", `expected a value after '${key}='`, valueAt);
  object[key] = parseFieldValue(type, value, valueAt, key, spec.kind);
  seen.add(key);
}

function toStatement(operation: Operation, objects: Fields[]): Statement {
  if (operation === "lookup_accounts" || operation === "lookup_transfers") {
    return { operation, events: objects.map((object) => object.id as bigint) };
  }
  return { operation, events: objects } as unknown as Statement;
}

/** The objects of one statement, up to and including its `;` (or the end, if allowed). */
function parseObjects(cursor: Cursor, operation: Operation, operationAt: number, requireSemicolon: boolean): Statement {
  const spec = operations[operation];
  const objects: Fields[] = [];
  let object = spec.defaults();
  let seen = new Set<string>();
  for (;;) {
    cursor.skipWhitespace();
    if (cursor.atEnd && requireSemicolon) {
      const end = cursor.text.trimEnd().length;
      throw new Failure("missing_semicolon", `missing ';' at the end of the ${operation} statement`, end);
    }
    if (cursor.atEnd || cursor.peek() === ";") break;
    if (cursor.peek() === ",") {
      if (seen.size === 0) throw new Failure("empty_object", "expected a key-value pair before ','", cursor.offset);
      if (!spec.batch) throw new Failure("multiple_objects", `${operation} takes a single ${spec.kind}, not several`, cursor.offset);
      cursor.offset += 1;
      objects.push(object);
      [object, seen] = [spec.defaults(), new Set<string>()];
      continue;
    }
    parsePair(cursor, operation, object, seen);
  }
  if (!cursor.atEnd) cursor.offset += 1; // the ';'
  if (seen.size > 0) objects.push(object);
  if (objects.length === 0) throw new Failure("no_objects", `${spec.none} (${operation} needs at least one object)`, operationAt);
  return toStatement(operation, objects);
}

/** The next statement, or null at the end of the input (empty statements `;` are skipped). */
function parseStatement(cursor: Cursor, requireSemicolon: boolean): Statement | null {
  for (cursor.skipWhitespace(); cursor.peek() === ";"; cursor.skipWhitespace()) cursor.offset += 1;
  if (cursor.atEnd) return null;
  const at = cursor.offset;
  const name = cursor.identifier();
  if (name === "help") {
    cursor.skipWhitespace();
    if (cursor.peek() === ";") cursor.offset += 1;
    else if (!cursor.atEnd) throw new Failure("expected_key", "help takes no arguments", cursor.offset);
    return { operation: "help" };
  }
  if (!Object.hasOwn(operations, name)) {
    const got = name === "" ? (cursor.peek() || "end of input") : name;
    throw new Failure("unknown_operation", `unknown operation '${got}': the operation must be one of ${operationList}`, at);
  }
  return parseObjects(cursor, name as Operation, at, requireSemicolon);
}

/**
 * Parses every statement of `text`. With `requireSemicolon` (the --command mode and interactive
 * input), the last statement must end with `;` too.
 */
export function parse(text: string, options: { requireSemicolon: boolean } = { requireSemicolon: true }): ParseResult {
  const cursor = new Cursor(text);
  const statements: Statement[] = [];
  try {
    for (let statement = parseStatement(cursor, options.requireSemicolon); statement !== null;
      statement = parseStatement(cursor, options.requireSemicolon)) {
      statements.push(statement);
    }
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    return { error: { kind: error.kind, message: error.message, offset: error.offset } };
  }
  return { statements };
}

/** The error with its line and column (1-based), the line itself, and a caret under the token. */
export function formatParseError(text: string, error: ParseError): string {
  const lineStart = text.lastIndexOf("\n", error.offset - 1) + 1;
  const lineEnd = text.indexOf("\n", error.offset);
  const line = text.slice(lineStart, lineEnd === -1 ? text.length : lineEnd);
  const lineNumber = text.slice(0, lineStart).split("\n").length;
  const column = error.offset - lineStart;
  const caret = line.slice(0, column).replace(/[^\t]/g, " ") + "^";
  return `Parse error at line ${lineNumber}, column ${column + 1}: ${error.message}\n  ${line}\n  ${caret}`;
}
