// Replica ↔ replica pings (spec/vsr.md §14): every second each replica pings the others with its
// monotonic time; the pong carries the responder's wall clock. The samples feed the cluster clock
// (Marzullo), which the primary needs before it may stamp prepares.
import { assert } from "../../core/assert.js";
import { writeU32 } from "../../core/bytes.js";
import { headerSize } from "../../core/config.js";
import {
  PingField, PingHeader, PongField, PongHeader, setChecksums,
} from "../../core/header.js";
import { Command } from "../../core/command.js";
import type { Replica } from "../replica.js";
import { clockEpochMaxNs, clockToleranceMaxNs } from "../clock/clock.js";
import { newMessage } from "../../core/message_slab.js";
import { joinNewerView } from "./view_change.js";

// Accessors reused for every ping and pong, by far the most frequent messages (an accessor per
// message was about 5% of the simulator's allocations). Each is used within one handler, which
// never runs another ping handler before it returns (sends are queued, not delivered).
const pingSent = new PingHeader(new Uint8Array(headerSize), 0);
const pingReceived = new PingHeader(new Uint8Array(headerSize), 0);
const pongSent = new PongHeader(new Uint8Array(headerSize), 0);
const pongReceived = new PongHeader(new Uint8Array(headerSize), 0);
/**
 * Every pong is built in this one buffer: a bus copies what sendToReplica hands it before it returns
 * (io/message_bus.ts), and a pong sets the same fields each time (every other byte stays zero).
 * One message per ping received was a tenth of the simulator's allocations.
 */
const pongMessage = new Uint8Array(headerSize);

export function tickPing(replica: Replica): void {
  const timeouts = replica.timeouts;
  if (timeouts.ping.fired()) {
    timeouts.ping.reset();
    sendPings(replica);
  }
  tickClock(replica);
}

/** The cluster clock's tick (Marzullo windows and epochs), on every tick whether or not a ping is due. */
export function tickClock(replica: Replica): void {
  assert(replica.status !== "recovering", "pings start once the replica is open");
  assert((replica.clock === null) === replica.isStandby, "every active replica, and only those, keeps a clock");
  const clock = replica.clock?.tick(replica.time.monotonic(), replica.time.realtime());
  if (clock === undefined) return;
  // Say why the primary stamps nothing while the cluster cannot agree on the time, and when it can again.
  if (clock.windowExpired !== null) replica.clockWindowExpiry = clock.windowExpired;
  if (clock.epochExpired) {
    replica.clockUnsynchronized = true;
    const why = replica.clockWindowExpiry === "partitioned" ? "too few replicas answered pings (partitioned)"
      : `no quorum of clocks agrees within ${clockToleranceMaxNs / 1e9} s`;
    replica.notice("clock_unsynchronized", () => `cluster time unknown for ${clockEpochMaxNs / 1e9} s: ${why}; ` +
      "a primary stamps no request until it is known again");
  }
  if (clock.synchronized !== null && replica.clockUnsynchronized) {
    replica.clockUnsynchronized = false;
    replica.notice("clock_synchronized", () => "cluster time agreed again: requests are stamped");
  }
}

/**
 * Pings go to the other active replicas only. Only they keep a cluster clock (§14.1, §15: standbys'
 * clocks are ignored), and a ping's view is not news from or to a standby (joinNewerView): a ping
 * or pong with a standby at either end is read by no one. TigerBeetle sends them, for standbys'
 * clocks; in the VOPR's clusters with standbys they were more than half of all messages.
 */
function sendPings(replica: Replica): void {
  assert(replica.timeouts.ping.ticking && !replica.isStandby, "active replicas ping on the ping timeout");
  const message = newMessage(headerSize + 4);
  const ping = pingSent.reset(message, 0);
  replica.frame(ping, Command.ping, message.length, replica.viewDurable);
  ping.setU64(PingField.ping_timestamp_monotonic, replica.time.monotonic());
  ping.setU128(PingField.checkpoint_id, replica.checkpointId());
  ping.setU64Number(PingField.checkpoint_op, replica.opCheckpoint);
  ping.setU16(PingField.release_count, 1);
  writeU32(message, headerSize, replica.release);
  assert(ping.size === message.length && ping.view <= replica.view, "a ping advertises only a durable view");
  setChecksums(message, 0, message.length);
  replica.broadcast(message, false);
}

export function onPing(replica: Replica, message: Uint8Array): void {
  const ping = pingReceived.reset(message, 0);
  if (ping.replica === replica.replica) return replica.ignored("ping", "from ourselves");
  assert(ping.replica < replica.replicaCount + replica.standbyCount);
  assert(message.length === headerSize + 4 * ping.getU16(PingField.release_count), "a ping lists its releases");
  // Pings are between active replicas (sendPings); one from or to a standby would have no use.
  if (replica.isStandby || ping.replica >= replica.replicaCount) return replica.ignored("ping", "standbys keep no cluster clock");
  joinNewerView(replica, ping);
  const reply = pongMessage;
  const pong = pongSent.reset(reply, 0);
  replica.frame(pong, Command.pong, headerSize, replica.viewDurable);
  pong.copyBytes(PongField.ping_timestamp_monotonic, ping, PingField.ping_timestamp_monotonic, 8); // echoed as is
  pong.pong_timestamp_wall = replica.time.realtime();
  setChecksums(reply, 0, headerSize);
  replica.sendToReplica(ping.replica, reply);
}

export function onPong(replica: Replica, message: Uint8Array): void {
  const pong = pongReceived.reset(message, 0);
  if (replica.clock === null) return replica.ignored("pong", "standbys keep no cluster clock");
  if (pong.replica >= replica.replicaCount) return replica.ignored("pong", "from a standby");
  if (pong.replica === replica.replica) return replica.ignored("pong", "from ourselves");
  assert(!replica.isStandby && pong.replica < replica.replicaCount);
  assert(replica.replicaCount >= 2 && message.length === headerSize, "a pong is a bare header from a peer");
  joinNewerView(replica, pong);
  const learned = replica.clock.learn(pong.replica, pong.ping_timestamp_monotonic, pong.pong_timestamp_wall,
    replica.time.monotonic());
  if (learned !== "learned") replica.probe("clock_sample_rejected");
}
