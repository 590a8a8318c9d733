import { type FieldLayout, commandLayout } from "./fields.js";
import type { Header } from "./header.js";

/**
 * Every field of a header (frame and command-specific) by spec name, values as bigint for u64
 * and u128. For logs, `scarab inspect` and tests; allocates.
 */
export function decodeHeaderFields(header: Header): Record<string, number | bigint> {
  const fields: Record<string, number | bigint> = {
    checksum: header.checksum, checksum_body: header.checksum_body, cluster: header.cluster,
    size: header.size, epoch: header.epoch, view: header.view, release: header.release,
    protocol: header.protocol, command: header.command, replica: header.replica,
  };
  for (const field of commandLayout(header.command) ?? []) {
    if (field.kind === "zero") continue;
    fields[field.name] = readLayoutField(header, field);
  }
  return fields;
}

function readLayoutField(header: Header, field: FieldLayout): number | bigint {
  switch (field.kind) {
    case "u8": return header.getU8(field.offset);
    case "u16": return header.getU16(field.offset);
    case "u32": return header.getU32(field.offset);
    case "u64": case "u64n": return header.getU64(field.offset);
    case "u128": return header.getU128(field.offset);
    case "zero": return 0;
  }
}
