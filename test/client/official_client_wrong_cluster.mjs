// Runs in a child process (the official client aborts the whole process on what it considers a
// protocol violation): tigerbeetle-node created for cluster CLUSTER, against a Scarab replica of
// another cluster on PORT. Prints whether its request settled within WAIT_MS, then exits 0.
import { createClient } from "tigerbeetle-node";

const client = createClient({ cluster_id: BigInt(process.env.CLUSTER), replica_addresses: [process.env.PORT] });
let settled = "pending";
client.lookupAccounts([1n]).then(
  () => { settled = "resolved"; },
  (error) => { settled = `rejected: ${error.message}`; },
);
await new Promise((resolve) => setTimeout(resolve, Number(process.env.WAIT_MS)));
console.log(JSON.stringify({ settled }));
process.exit(0);
