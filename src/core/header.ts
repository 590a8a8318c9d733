// The 256-byte message header (spec/wire.md §2–§6) and the codecs built on it: typed zero-copy
// accessors, checksums, header validity, a stream framer and builders for client-facing messages.
//
// This file is the public entry point; the code lives in ./header/, one module per concern. Each
// module imports only from those listed before it here (no cycles):
//   fields.ts     wire constants, frame and command field offsets, command layouts
//   checksums.ts  header and body checksums (wire.md §6)
//   header.ts     `Header` and the per-command accessors (one class over offset tables)
//   decode.ts     `decodeHeaderFields`
//   validate.ts   `validateHeader`
//   framer.ts     `MessageFramer`
//   builders.ts   builders for client-facing messages, `restampReplyView`
// Modules below export a few internal helpers to the modules above them; the explicit lists here
// keep those out of the public API.
export {
  BlockField, CommitField, EmptyField, EvictionField, FrameField, GetHeadersField, GetPrepareField, GetReplyField,
  GetViewField, JoinViewField, PingClientField, PingField, PongClientField, PongField, PrepareField, PrepareOkField,
  ReplyField, RequestField, ViewField, checksumBodyEmpty, commandLayout, pongClientReplicaLimit,
  registerRequestBodySize, registerResultBodySize, releasesMax, replicaIndexLimit, wireMessageSizeMax,
} from "./header/fields.js";
export type { FieldKind, FieldLayout } from "./header/fields.js";
export {
  setChecksums, setHeaderChecksumOnly, setReplyChecksums, verifyBodyChecksum, verifyFrame, verifyHeaderChecksum,
} from "./header/checksums.js";
export type { FrameCheck } from "./header/checksums.js";
export {
  BlockHeader, CommitHeader, EvictionHeader, GetHeadersHeader, GetPrepareHeader, GetReplyHeader, GetViewHeader,
  Header, JoinViewHeader, PingClientHeader, PingHeader, PongClientHeader, PongHeader, PrepareHeader,
  PrepareOkHeader, ReplyHeader, RequestHeader, ViewHeader,
} from "./header/header.js";
export * from "./header/decode.js";
export * from "./header/validate.js";
export * from "./header/framer.js";
export * from "./header/builders.js";
