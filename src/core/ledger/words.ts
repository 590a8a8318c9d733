// u32 word offsets of the 128-byte records of ledger.md §2, for zero-copy access through a
// Uint32Array over a row buffer or a message body (the host is little-endian, see u128.ts).
// A record is 32 words; `code` is the low half and `flags` the high half of word 29.

export const rowWords = 32;

/** Account words (ledger.md §2.1). */
export const AW = {
  id: 0, debits_pending: 4, debits_posted: 8, credits_pending: 12, credits_posted: 16,
  user_data_128: 20, user_data_64: 24, user_data_32: 26, reserved: 27, ledger: 28, codeFlags: 29,
  timestampLo: 30, timestampHi: 31,
} as const;

/** Transfer words (ledger.md §2.2). */
export const TW = {
  id: 0, debit_account_id: 4, credit_account_id: 8, amount: 12, pending_id: 16,
  user_data_128: 20, user_data_64: 24, user_data_32: 26, timeout: 27, ledger: 28, codeFlags: 29,
  timestampLo: 30, timestampHi: 31,
} as const;

/** AccountFilter words (ledger.md §2.4); reserved bytes [46, 104) straddle words 11..25. */
export const AFW = {
  account_id: 0, user_data_128: 4, user_data_64: 8, user_data_32: 10, codeReserved: 11,
  timestampMinLo: 26, timestampMinHi: 27, timestampMaxLo: 28, timestampMaxHi: 29, limit: 30,
  flags: 31,
} as const;

/** QueryFilter words (ledger.md §2.5): 16 words; reserved bytes [34, 40) are words 8 (high half) and 9. */
export const QFW = {
  user_data_128: 0, user_data_64: 4, user_data_32: 6, ledger: 7, codeReserved: 8, reserved: 9,
  timestampMinLo: 10, timestampMinHi: 11, timestampMaxLo: 12, timestampMaxHi: 13, limit: 14,
  flags: 15,
} as const;

export const queryFilterWords = 16;

/** Pending state of a transfer row (ledger.md §9.1). `none` for transfers that are not pending. */
export const PendingState = { none: 0, pending: 1, posted: 2, voided: 3, expired: 4 } as const;

export function flagsOf(words: Uint32Array, base: number): number {
  return words[base + 29]! >>> 16;
}

export function codeOf(words: Uint32Array, base: number): number {
  return words[base + 29]! & 0xffff;
}
