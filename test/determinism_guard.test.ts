// The determinism guard (DESIGN.md "Determinism rules"): src/core, src/replica and src/sim must not
// reach ambient time, randomness or asynchrony. The simulator replays a seed byte for byte only
// if every source of order and randomness comes through Time and the PRNG. (The layer rule and
// import cycles: test/layering.test.ts.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const guarded = ["src/core", "src/replica", "src/sim"];

const banned: readonly { name: string; pattern: RegExp }[] = [
  { name: "Date", pattern: /\bDate\s*\.\s*now\b|\bnew\s+Date\b|\bDate\s*\(/ },
  { name: "Math.random", pattern: /\bMath\s*\.\s*random\b/ },
  { name: "timers", pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/ },
  { name: "process.hrtime", pattern: /\bprocess\s*\.\s*hrtime\b/ },
  { name: "performance.now", pattern: /\bperformance\s*\.\s*now\b/ },
  { name: "crypto randomness", pattern: /\b(randomBytes|randomUUID|randomInt|getRandomValues|randomFill(Sync)?)\b/ },
  { name: "async/await", pattern: /\basync\b|\bawait\b/ },
  { name: "Promise", pattern: /\bPromise\b/ },
  { name: "process.nextTick", pattern: /\bprocess\s*\.\s*nextTick\b/ },
];

/** Removes comments and string literals so that prose mentioning a banned name is allowed. */
export function stripCommentsAndStrings(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\/\/[^\n]*/g, " ")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
}

export function findViolations(source: string): string[] {
  const code = stripCommentsAndStrings(source);
  return banned.filter((rule) => rule.pattern.test(code)).map((rule) => rule.name);
}

function listSources(directory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return listSources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("determinism guard", () => {
  test("the guard itself catches each banned API and ignores comments and strings", () => {
    expect(findViolations("const t = Date.now();")).toEqual(["Date"]);
    expect(findViolations("const d = new Date(0);")).toEqual(["Date"]);
    expect(findViolations("if (Math.random() < 0.5) {}")).toEqual(["Math.random"]);
    expect(findViolations("setTimeout(f, 10);")).toEqual(["timers"]);
    expect(findViolations("const x = process.hrtime.bigint();")).toEqual(["process.hrtime"]);
    expect(findViolations("performance.now()")).toEqual(["performance.now"]);
    expect(findViolations("crypto.randomBytes(16)")).toEqual(["crypto randomness"]);
    expect(findViolations("async function f() { await g(); }")).toEqual(["async/await"]);
    expect(findViolations("return new Promise((r) => r());")).toEqual(["Promise"]);
    expect(findViolations("process.nextTick(f)")).toEqual(["process.nextTick"]);
    expect(findViolations("// Date.now() is banned here\nconst s = 'Math.random';")).toEqual([]);
  });

  test("src/core, src/replica and src/sim use no banned API", () => {
    const files = guarded.flatMap((folder) => listSources(join(root, folder)));
    expect(files.length).toBeGreaterThan(0);
    const violations = files
      .map((file) => ({ file: relative(root, file), rules: findViolations(readFileSync(file, "utf8")) }))
      .filter((entry) => entry.rules.length > 0);
    expect(violations).toEqual([]);
  });
});
