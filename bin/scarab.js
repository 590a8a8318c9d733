#!/usr/bin/env node
// The `scarab` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error("scarab: dist/ is missing; run `npm install` (or `npm run build`) in the scarab folder first.");
  process.exit(1);
}

// `scarab start` and `benchmark` re-execute themselves in place (same pid) with V8 heap options
// that can only be given at start-up (src/cli/heap_options.ts); nothing else has run yet.
const { reexecWithHeapOptions } = await import(new URL("../dist/src/cli/heap_options.js", import.meta.url).href);
reexecWithHeapOptions(process.argv, process.execArgv, process.execPath);

// `scarab start` under a supervisor may be stopped before its modules have loaded: the signal is
// recorded and handed to the replica (src/cli/server.ts SignalRelay) instead of killing the
// process by its default action. Other commands keep the default behaviour.
const signals = { pending: [], handler: null };
if (process.argv[2] === "start") {
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => (signals.handler === null ? signals.pending.push(signal) : signals.handler(signal)));
  }
}

const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2), signals);
