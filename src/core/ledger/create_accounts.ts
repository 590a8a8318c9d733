// create_accounts: the per-account checks of ledger.md §7, in order, and the create effect.
// The batch-level rules (§6 3.2.a–d) ran before `create` is called.
import { AccountFlags, CreateAccountStatus as S, accountFlagsPadding } from "../layouts.js";
import { u128Equal, u128IsMax, u128IsZero } from "../u128.js";
import type { ExecutionContext } from "./context.js";
import { AW, rowWords } from "./words.js";

const created = S.created;
const mutuallyExclusive = AccountFlags.debits_must_not_exceed_credits | AccountFlags.credits_must_not_exceed_debits;

export class AccountCreator {
  constructor(private readonly context: ExecutionContext) {}

  /** Returns the status of the account at events[e..e+32) and creates it when valid. */
  create(events: Uint32Array, e: number, imported: boolean): number {
    if (events[e + AW.reserved] !== 0) return S.reserved_field;
    const flags = events[e + AW.codeFlags]! >>> 16;
    if ((flags & accountFlagsPadding) !== 0) return S.reserved_flag;
    if (u128IsZero(events, e + AW.id)) return S.id_must_not_be_zero;
    if (u128IsMax(events, e + AW.id)) return S.id_must_not_be_int_max;
    const state = this.context.state;
    const existing = state.accountRow(events, e + AW.id);
    if (existing !== -1) return this.exists(events, e, existing * rowWords);
    if ((flags & mutuallyExclusive) === mutuallyExclusive) return S.flags_are_mutually_exclusive;
    if (!u128IsZero(events, e + AW.debits_pending)) return S.debits_pending_must_be_zero;
    if (!u128IsZero(events, e + AW.debits_posted)) return S.debits_posted_must_be_zero;
    if (!u128IsZero(events, e + AW.credits_pending)) return S.credits_pending_must_be_zero;
    if (!u128IsZero(events, e + AW.credits_posted)) return S.credits_posted_must_be_zero;
    if (events[e + AW.ledger] === 0) return S.ledger_must_not_be_zero;
    if ((events[e + AW.codeFlags]! & 0xffff) === 0) return S.code_must_not_be_zero;
    const context = this.context;
    let tsHi = context.tHi;
    let tsLo = context.tLo;
    if (imported) {
      tsHi = events[e + AW.timestampHi]!;
      tsLo = events[e + AW.timestampLo]!;
      // §7 rule 8: strictly after every account, and no transfer has this timestamp (§10.3).
      if (state.accounts.notAfterLast(tsHi, tsLo) || state.transfers.hasTimestamp(tsHi, tsLo)) {
        return S.imported_event_timestamp_must_not_regress;
      }
      context.resultHi = tsHi;
      context.resultLo = tsLo;
    }
    // Balances and reserved are zero (checked above); `closed` may be set at creation (§7 rule 9).
    state.appendAccount(events, e, tsHi, tsLo);
    return created;
  }

  /** §7 rule 4: compare with the stored account `s` (word offset). */
  private exists(events: Uint32Array, e: number, s: number): number {
    const stored = this.context.state.accounts.u32;
    // Whole u16 flags, including the stored account's current `closed` bit.
    if (events[e + AW.codeFlags]! >>> 16 !== stored[s + AW.codeFlags]! >>> 16) {
      return S.exists_with_different_flags;
    }
    if (!u128Equal(events, e + AW.user_data_128, stored, s + AW.user_data_128)) {
      return S.exists_with_different_user_data_128;
    }
    if (events[e + AW.user_data_64] !== stored[s + AW.user_data_64] ||
        events[e + AW.user_data_64 + 1] !== stored[s + AW.user_data_64 + 1]) {
      return S.exists_with_different_user_data_64;
    }
    if (events[e + AW.user_data_32] !== stored[s + AW.user_data_32]) return S.exists_with_different_user_data_32;
    if (events[e + AW.ledger] !== stored[s + AW.ledger]) return S.exists_with_different_ledger;
    if ((events[e + AW.codeFlags]! & 0xffff) !== (stored[s + AW.codeFlags]! & 0xffff)) {
      return S.exists_with_different_code;
    }
    this.context.resultFrom(stored, s + AW.timestampLo);
    return S.exists;
  }
}
