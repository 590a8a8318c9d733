// Message commands, VSR/state-machine operations and eviction reasons (spec/wire.md §3, §4.5;
// spec/ledger.md §3; spec/vsr.md §4). Each is a const object (values usable at runtime) plus a type
// of the same name (the union of its values), so no TypeScript `enum` machinery is involved.

/** Header `command` byte (wire.md §3). Deprecated numbers are known (dropped, never fatal). */
export const Command = {
  reserved: 0,
  ping: 1,
  pong: 2,
  ping_client: 3,
  pong_client: 4,
  request: 5,
  prepare: 6,
  prepare_ok: 7,
  reply: 8,
  commit: 9,
  exit_view: 10, // classic start_view_change
  join_view: 11, // classic do_view_change
  deprecated_12: 12,
  get_view: 13, // classic request_start_view
  get_headers: 14,
  get_prepare: 15,
  get_reply: 16,
  headers: 17,
  eviction: 18,
  get_blocks: 19,
  block: 20,
  deprecated_21: 21,
  deprecated_22: 22,
  deprecated_23: 23,
  view: 24, // classic start_view
} as const;
export type Command = (typeof Command)[keyof typeof Command];

/** Values above this are unknown commands: a fatal framing error (wire.md §1 step 2). */
export const commandMax = 24;

const commandNames: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, value] of Object.entries(Command)) names[value] = name;
  return names;
})();

/** True for every value of wire.md §3 (0..24), including reserved and deprecated numbers. */
export function isKnownCommand(n: number): n is Command {
  return Number.isInteger(n) && n >= 0 && n <= commandMax;
}

/** Known numbers that are never sent any more: 0 (reserved), 12, 21, 22, 23. */
export function isRetiredCommand(n: number): boolean {
  return n === 0 || n === 12 || n === 21 || n === 22 || n === 23;
}

/** Commands that a client and a replica exchange; their layouts are fixed by wire.md §4. */
export function isClientCommand(n: number): boolean {
  return (
    n === Command.ping_client ||
    n === Command.pong_client ||
    n === Command.request ||
    n === Command.reply ||
    n === Command.eviction
  );
}

/** For logs: the spec name, or `unknown(n)`. */
export function commandName(n: number): string {
  return isKnownCommand(n) ? commandNames[n]! : `unknown(${n})`;
}

/** Header `operation` byte (ledger.md §3; vsr.md §4). Below 128 is reserved for VSR. */
export const Operation = {
  reserved: 0,
  root: 1,
  register: 2,
  reconfigure: 3,
  pulse: 4,
  upgrade: 5,
  noop: 6,
  lookup_accounts: 140,
  lookup_transfers: 141,
  get_account_transfers: 142,
  get_account_balances: 143,
  query_accounts: 144,
  query_transfers: 145,
  create_accounts: 146,
  create_transfers: 147,
} as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

/** Operations below this number belong to VSR, not to the state machine. */
export const vsrOperationsReserved = 128;
/** The state machine's internal number for pulse (ledger.md §9.3); never on the wire. */
export const stateMachinePulseOperation = 128;

const operationNames: ReadonlyMap<number, string> = new Map(
  Object.entries(Operation).map(([name, value]) => [value, name] as const),
);

/** The ledger operations 140..147: always multi-batch encoded (wire.md §8). */
export function isStateMachineOperation(n: number): boolean {
  return n >= Operation.lookup_accounts && n <= Operation.create_transfers;
}

/** For logs: the spec name, or `operation(n)`. */
export function operationName(n: number): string {
  return operationNames.get(n) ?? `operation(${n})`;
}

/** Eviction `reason` byte (wire.md §4.5). 0 and values above 8 are invalid. */
export const EvictionReason = {
  no_session: 1,
  client_release_too_low: 2,
  client_release_too_high: 3,
  invalid_request_operation: 4,
  invalid_request_body: 5,
  invalid_request_body_size: 6,
  session_too_low: 7,
  session_release_mismatch: 8,
} as const;
export type EvictionReason = (typeof EvictionReason)[keyof typeof EvictionReason];

export function isValidEvictionReason(n: number): n is EvictionReason {
  return Number.isInteger(n) && n >= EvictionReason.no_session && n <= EvictionReason.session_release_mismatch;
}

const evictionReasonNames: ReadonlyMap<number, string> = new Map(
  Object.entries(EvictionReason).map(([name, value]) => [value, name] as const),
);

export function evictionReasonName(n: number): string {
  return evictionReasonNames.get(n) ?? `invalid(${n})`;
}
