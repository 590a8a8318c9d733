// The replica's trace: one line for every message it drops (and why), in the spirit of
// TigerBeetle's `ignore_*` log lines and etcd raft's "ignored X because Y". The sink is passed in
// through ReplicaOptions.trace; without one (production unless --log-debug) nothing is built.
// Lines are deterministic: they depend only on the replica's inputs, so the VOPR can print them
// (`scarab vopr SEED --log full`) and scenario tests can assert them.

/** Receives `line` from replica `replica`. Must not call back into the replica. */
export type TraceSink = (replica: number, line: string) => void;

/** Why a message was dropped, or null if it is to be handled. Reasons are short and stable. */
export type DropReason = string | null;
