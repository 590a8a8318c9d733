// The REPL's statement parser (src/cli/repl_parser.ts), table-driven: TigerBeetle's syntax for
// every operation, and each kind of error pointing at the token at fault.
import { describe, expect, test } from "vitest";
import { batchEventsMax } from "../../src/core/config.js";
import { AccountFilterFlags, AccountFlags, TransferFlags } from "../../src/core/layouts.js";
import { formatParseError, parse, parseInteger, type ParseErrorKind, type Statement } from "../../src/cli/repl_parser.js";

const u128Max = (1n << 128n) - 1n;

function account(fields: Record<string, bigint | number>): Record<string, bigint | number> {
  return {
    id: 0n, debits_pending: 0n, debits_posted: 0n, credits_pending: 0n, credits_posted: 0n,
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, reserved: 0, ledger: 0, code: 0, flags: 0,
    timestamp: 0n, ...fields,
  };
}

function transfer(fields: Record<string, bigint | number>): Record<string, bigint | number> {
  return {
    id: 0n, debit_account_id: 0n, credit_account_id: 0n, amount: 0n, pending_id: 0n, user_data_128: 0n,
    user_data_64: 0n, user_data_32: 0, timeout: 0, ledger: 0, code: 0, flags: 0, timestamp: 0n, ...fields,
  };
}

function accountFilter(fields: Record<string, bigint | number>): Record<string, bigint | number> {
  return {
    account_id: 0n, user_data_128: 0n, user_data_64: 0n, user_data_32: 0, code: 0, timestamp_min: 0n,
    timestamp_max: 0n, limit: batchEventsMax, flags: AccountFilterFlags.debits | AccountFilterFlags.credits, ...fields,
  };
}

function queryFilter(fields: Record<string, bigint | number>): Record<string, bigint | number> {
  return {
    user_data_128: 0n, user_data_64: 0n, user_data_32: 0, ledger: 0, code: 0, timestamp_min: 0n,
    timestamp_max: 0n, limit: batchEventsMax, flags: 0, ...fields,
  };
}

const valid: Array<{ input: string; statements: unknown[] }> = [
  {
    input: "create_accounts id=1 code=10 ledger=700 flags=linked|history, id=2 code=10 ledger=700;",
    statements: [{ operation: "create_accounts", events: [
      account({ id: 1n, code: 10, ledger: 700, flags: AccountFlags.linked | AccountFlags.history }),
      account({ id: 2n, code: 10, ledger: 700 }),
    ] }],
  },
  {
    input: "create_transfers id=1 debit_account_id=1 credit_account_id=2 amount=10 ledger=700 code=10;",
    statements: [{ operation: "create_transfers", events: [
      transfer({ id: 1n, debit_account_id: 1n, credit_account_id: 2n, amount: 10n, ledger: 700, code: 10 }),
    ] }],
  },
  {
    input: "create_transfers id=2 pending_id=1 amount=-0 timeout=4294967295 user_data_64=18446744073709551615\n" +
      "  flags = pending |\n  linked | balancing_debit ;",
    statements: [{ operation: "create_transfers", events: [transfer({
      id: 2n, pending_id: 1n, amount: u128Max, timeout: 4294967295, user_data_64: 2n ** 64n - 1n,
      flags: TransferFlags.pending | TransferFlags.linked | TransferFlags.balancing_debit,
    })] }],
  },
  { input: "lookup_accounts id=1, id=2;", statements: [{ operation: "lookup_accounts", events: [1n, 2n] }] },
  {
    input: "lookup_transfers id=340282366920938463463374607431768211455;",
    statements: [{ operation: "lookup_transfers", events: [u128Max] }],
  },
  { input: "lookup_accounts id=0xff, id=0b101, id=0o17, id=1_000;", statements: [{ operation: "lookup_accounts", events: [255n, 5n, 15n, 1000n] }] },
  { input: "lookup_accounts id=1,\n id=2,;", statements: [{ operation: "lookup_accounts", events: [1n, 2n] }] },
  {
    input: "get_account_transfers account_id=2 flags=debits|credits limit=10;",
    statements: [{ operation: "get_account_transfers", events: [accountFilter({ account_id: 2n, limit: 10 })] }],
  },
  {
    input: "get_account_balances account_id=1 flags=credits|reversed timestamp_min=5 timestamp_max=9 code=3;",
    statements: [{ operation: "get_account_balances", events: [accountFilter({
      account_id: 1n, flags: AccountFilterFlags.credits | AccountFilterFlags.reversed, timestamp_min: 5n, timestamp_max: 9n, code: 3,
    })] }],
  },
  { input: "get_account_transfers account_id=7;", statements: [{ operation: "get_account_transfers", events: [accountFilter({ account_id: 7n })] }] },
  {
    input: "query_accounts ledger=700 code=10 user_data_32=3 flags=reversed limit=5;",
    statements: [{ operation: "query_accounts", events: [queryFilter({ ledger: 700, code: 10, user_data_32: 3, flags: 1, limit: 5 })] }],
  },
  { input: "query_transfers user_data_128=9;", statements: [{ operation: "query_transfers", events: [queryFilter({ user_data_128: 9n })] }] },
  {
    input: "  lookup_accounts id=1;\n;; lookup_transfers id=3 ;help;",
    statements: [{ operation: "lookup_accounts", events: [1n] }, { operation: "lookup_transfers", events: [3n] }, { operation: "help" }],
  },
  { input: "", statements: [] },
  { input: " \n ", statements: [] },
];

describe("repl parser: valid statements", () => {
  test.each(valid)("$input", ({ input, statements }) => {
    expect(parse(input)).toEqual({ statements: statements as Statement[] });
  });

  test("without requireSemicolon the last statement may end at the end of the input", () => {
    expect(parse("lookup_accounts id=1", { requireSemicolon: false })).toEqual({ statements: [{ operation: "lookup_accounts", events: [1n] }] });
  });
});

const errors: Array<{ input: string; kind: ParseErrorKind; at: string; message: RegExp }> = [
  { input: "create_acounts id=1;", kind: "unknown_operation", at: "create_acounts", message: /unknown operation 'create_acounts'.*create_accounts/ },
  { input: "lookup_accounts id=1; 5 id=2;", kind: "unknown_operation", at: "5 id", message: /unknown operation '5'/ },
  { input: "create_accounts id=1 colour=2;", kind: "unknown_field", at: "colour", message: /unknown field 'colour' for create_accounts/ },
  { input: "lookup_accounts ledger=1;", kind: "unknown_field", at: "ledger", message: /unknown field 'ledger' for lookup_accounts \(fields: id\)/ },
  { input: "create_accounts id=1 reserved=1;", kind: "unknown_field", at: "reserved", message: /unknown field 'reserved'/ },
  { input: "create_accounts id=1 id=2;", kind: "duplicate_field", at: "id=2", message: /'id' is given twice/ },
  { input: "create_accounts id=12a;", kind: "bad_integer", at: "12a", message: /'12a' is not a valid value for id/ },
  { input: "create_accounts id=1 code=65536;", kind: "bad_integer", at: "65536", message: /unsigned 16-bit integer/ },
  { input: "create_accounts id=1 ledger=-4294967296;", kind: "bad_integer", at: "-4294967296", message: /32-bit/ },
  { input: "create_transfers id=340282366920938463463374607431768211456;", kind: "bad_integer", at: "3402", message: /128-bit/ },
  { input: "create_accounts id=1__0;", kind: "bad_integer", at: "1__0", message: /not a valid value/ },
  { input: "create_accounts id=1 flags=linked|histroy;", kind: "unknown_flag", at: "histroy", message: /unknown flag 'histroy' for account flags/ },
  { input: "create_transfers id=1 flags=pending | post;", kind: "unknown_flag", at: "post;", message: /unknown flag 'post' for transfer flags/ },
  { input: "get_account_transfers account_id=1 flags=pending;", kind: "unknown_flag", at: "pending", message: /account filter flags/ },
  { input: "create_accounts id=1 flags=linked|;", kind: "unknown_flag", at: ";", message: /expected a flag name/ },
  { input: "create_accounts =1;", kind: "expected_key", at: "=1", message: /expected a key-value pair/ },
  { input: "create_accounts id 1;", kind: "expected_equals", at: "1;", message: /expected '=' after 'id'/ },
  { input: "create_accounts id=;", kind: "expected_value", at: ";", message: /expected a value after 'id='/ },
  { input: "lookup_accounts id=1,, id=2;", kind: "empty_object", at: ", id=2", message: /before ','/ },
  { input: "get_account_balances account_id=1, account_id=2;", kind: "multiple_objects", at: ", account_id=2", message: /takes a single account filter/ },
  { input: "query_accounts ledger=1, ledger=2;", kind: "multiple_objects", at: ", ledger=2", message: /takes a single query filter/ },
  { input: "create_accounts;", kind: "no_objects", at: "create_accounts", message: /No accounts to create/ },
  { input: "lookup_accounts id=1;\nlookup_accounts id=2\n", kind: "missing_semicolon", at: "", message: /missing ';' at the end of the lookup_accounts statement/ },
  { input: "help me;", kind: "expected_key", at: "me", message: /help takes no arguments/ },
];

describe("repl parser: errors", () => {
  test.each(errors)("$kind: $input", ({ input, kind, at, message }) => {
    const result = parse(input);
    if (!("error" in result)) throw new Error("expected a parse error");
    expect(result.error.kind).toBe(kind);
    expect(result.error.message).toMatch(message);
    const expectedOffset = at === "" ? input.trimEnd().length : input.indexOf(at);
    expect(result.error.offset).toBe(expectedOffset);
  });

  test("the formatted error names the line and column and points at the token", () => {
    const input = "lookup_accounts id=1;\ncreate_accounts id=1 colour=2;";
    const result = parse(input);
    if (!("error" in result)) throw new Error("expected a parse error");
    expect(formatParseError(input, result.error)).toBe(
      "Parse error at line 2, column 22: unknown field 'colour' for create_accounts (fields: id, debits_pending, " +
      "debits_posted, credits_pending, credits_posted, user_data_128, user_data_64, user_data_32, ledger, code, flags, timestamp)\n" +
      "  create_accounts id=1 colour=2;\n" +
      "                       ^",
    );
  });
});

describe("repl parser: integers", () => {
  test.each([
    ["0", 16, 0n], ["65535", 16, 65535n], ["65536", 16, null], ["-0", 16, 65535n], ["-1", 64, 2n ** 64n - 2n],
    ["0x10", 32, 16n], ["0XfF", 32, 255n], ["0b11", 32, 3n], ["0o10", 32, 8n], ["1_000_000", 32, 1000000n],
    ["_1", 32, null], ["1_", 32, null], ["", 32, null], ["1.5", 32, null], ["+1", 32, null], ["0x", 32, null],
  ] as const)("%s as u%d", (text, bits, expected) => {
    expect(parseInteger(text, bits)).toBe(expected);
  });
});
