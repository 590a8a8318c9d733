// Which replica of which cluster a data file belongs to, read from its superblock copies before
// the replica is built (`scarab start` takes cluster, replica and replica count from the file; the
// flags only check them). Pure: the caller reads the four copies. A user's mistake — another
// cluster's file, another replica's, a file from a newer release, a destroyed superblock — gets
// a message that says which, instead of one "NotFound" for all of them.
import { assert } from "../../core/assert.js";
import { releaseCurrent, type Config } from "../../core/config.js";
import {
  decodeSuperBlock, superblockMatchesChecksum, superblockVersion, superblockVersionOf, SuperBlockField, type SuperBlockState,
} from "./layout.js";
import { readU128 } from "../../core/bytes.js";
import { replicaIndexOf } from "./superblock.js";

export interface DataFileIdentity {
  readonly cluster: bigint;
  readonly replica: number;
  readonly replicaCount: number;
  /** The release that formatted the file. */
  readonly releaseFormat: number;
}

export type Identification =
  | { readonly kind: "identified"; readonly identity: DataFileIdentity }
  | { readonly kind: "unidentified"; readonly reason: string };

export function identifyDataFile(copies: readonly Uint8Array[], config: Config): Identification {
  assert(copies.length === 4, "identifyDataFile: four superblock copies");
  const states = copies.map((bytes) => decodeCopy(bytes, config)).filter((state) => state !== null);
  if (states.length === 0) {
    const version = otherFormat(copies, config);
    if (version !== null) {
      return { kind: "unidentified", reason: `the data file is in format ${version}, this release reads format ${superblockVersion} ` +
        "only: it was written by another release of Scarab (recreate it with this release's `scarab format`)" };
    }
    return { kind: "unidentified", reason: "no superblock copy is intact: not a Scarab data file, or its superblock is destroyed" };
  }
  // The newest state wins (the open quorum decides later whether it may be used).
  const newest = states.reduce((a, b) => (b.sequence > a.sequence ? b : a));
  if (states.some((state) => state.cluster !== newest.cluster)) {
    return { kind: "unidentified", reason: "superblock copies of different clusters: mixed-up data files" };
  }
  const vsr = newest.vsr_state;
  const replica = replicaIndexOf(newest.cluster, vsr.replica_id);
  if (replica === null) return { kind: "unidentified", reason: "the superblock names no replica of its cluster" };
  return {
    kind: "identified",
    identity: { cluster: newest.cluster, replica, replicaCount: vsr.replica_count, releaseFormat: newest.release_format },
  };
}

/** The format version of an intact copy (its checksum holds) that is not this release's, or null. */
function otherFormat(copies: readonly Uint8Array[], config: Config): number | null {
  for (const bytes of copies) {
    if (bytes.length !== config.superblockCopySize || !superblockMatchesChecksum(bytes, config)) continue;
    const version = superblockVersionOf(bytes);
    if (version !== superblockVersion) return version;
  }
  return null;
}

/** A copy decoded with the cluster it names itself (decodeSuperBlock checks it against one). */
function decodeCopy(bytes: Uint8Array, config: Config): SuperBlockState | null {
  if (bytes.length !== config.superblockCopySize) return null;
  return decodeSuperBlock(bytes, config, readU128(bytes, SuperBlockField.cluster))?.state ?? null;
}

/** What is wrong with starting `identity` as the replica the operator asked for, or null. */
export function identityMismatch(
  identity: DataFileIdentity, expected: { cluster?: bigint; replica?: number; replicaCount?: number },
): string | null {
  if (expected.cluster !== undefined && identity.cluster !== expected.cluster) {
    return `the data file belongs to cluster ${identity.cluster}, not ${expected.cluster}`;
  }
  if (expected.replica !== undefined && identity.replica !== expected.replica) {
    return `the data file is replica ${identity.replica}'s, not replica ${expected.replica}'s`;
  }
  if (expected.replicaCount !== undefined && identity.replicaCount !== expected.replicaCount) {
    return `the data file is for a cluster of ${identity.replicaCount} replicas, but ${expected.replicaCount} addresses were given`;
  }
  if (identity.releaseFormat > releaseCurrent) {
    return `the data file was formatted by a newer release (${identity.releaseFormat} > ${releaseCurrent}); upgrade scarab`;
  }
  return null;
}
