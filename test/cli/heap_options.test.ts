import { describe, expect, test } from "vitest";
import { heapOptionsFor, missingHeapOptions } from "../../src/cli/heap_options.js";

describe("V8 heap options per command", () => {
  test("start and benchmark have theirs; other commands none", () => {
    expect(heapOptionsFor("start")).toEqual(["--initial-old-space-size=256"]);
    expect(heapOptionsFor("benchmark")).toEqual(["--max-semi-space-size=64"]);
    expect(heapOptionsFor("vopr")).toEqual(["--single-threaded-gc", "--max-semi-space-size=8"]);
    expect(heapOptionsFor("format")).toEqual([]);
    expect(heapOptionsFor("constructor")).toEqual([]); // not an inherited property of a lookup object
    expect(heapOptionsFor(undefined)).toEqual([]);
  });

  test("an option the user gave keeps the user's value; the process already re-executed needs nothing", () => {
    expect(missingHeapOptions("start", [])).toEqual(["--initial-old-space-size=256"]);
    expect(missingHeapOptions("start", ["--initial-old-space-size=1024"])).toEqual([]);
    expect(missingHeapOptions("start", ["--cpu-prof", "--initial-old-space-size=256"])).toEqual([]);
    expect(missingHeapOptions("benchmark", ["--max-semi-space-size=16"])).toEqual([]);
    expect(missingHeapOptions("benchmark", ["--initial-old-space-size=256"])).toEqual(["--max-semi-space-size=64"]);
    expect(missingHeapOptions("vopr", ["--no-single-threaded-gc"])).toEqual(["--max-semi-space-size=8"]);
  });
});
