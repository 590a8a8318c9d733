// The coalescing rules of call_queue.ts, on their own: a call joins the first waiting request of
// its operation with room for its events (batch_size_limit) and its results (a message body).
import { describe, expect, test } from "vitest";
import { CallQueue, type QueuedCall } from "../../src/client/call_queue.js";

const create = 147;
const lookup = 140;

function call(operation: number, events: number, name: string): QueuedCall & { name: string } {
  const eventSize = operation === lookup ? 16 : 128;
  const resultSize = operation === lookup ? 128 : 16;
  return { operation, eventSize, resultSize, events: new Uint8Array(events * eventSize), resultCountExpected: events, name };
}

function requests(queue: CallQueue<ReturnType<typeof call>>): string[] {
  const shown: string[] = [];
  for (let request = queue.shift(); request !== undefined; request = queue.shift()) {
    shown.push(request.calls.map((c) => c.name).join("+"));
  }
  return shown;
}

describe("CallQueue", () => {
  test("fills a request up to batch_size_limit, then a smaller call may still join it", () => {
    const queue = new CallQueue<ReturnType<typeof call>>(3840, 1_048_320); // 29 transfers + trailer
    queue.push(call(create, 20, "a"));
    queue.push(call(create, 10, "b")); // 30 > 29: a new request
    queue.push(call(create, 9, "c")); // joins a: 29
    queue.push(call(create, 1, "d")); // a is full: joins b
    expect(requests(queue)).toEqual(["a+c", "b+d"]);
  });

  test("keeps operations apart, and a call may overtake a request of another operation", () => {
    const queue = new CallQueue<ReturnType<typeof call>>(1_048_320, 1_048_320);
    for (const [operation, name] of [[create, "t1"], [lookup, "l1"], [create, "t2"], [lookup, "l2"]] as const) {
      queue.push(call(operation, 1, name));
    }
    expect(requests(queue)).toEqual(["t1+t2", "l1+l2"]);
  });

  test("the reply must fit too: lookups are small but their results are not", () => {
    const queue = new CallQueue<ReturnType<typeof call>>(1_048_320, 1_048_320);
    queue.push(call(lookup, 5000, "a"));
    queue.push(call(lookup, 5000, "b")); // 10,000 accounts do not fit in one reply
    expect(requests(queue)).toEqual(["a", "b"]);
  });

  test("remove() takes a waiting call out, and its request with it when it empties", () => {
    const queue = new CallQueue<ReturnType<typeof call>>(1_048_320, 1_048_320);
    const calls = [call(create, 1, "a"), call(lookup, 1, "b"), call(create, 2, "c")];
    for (const c of calls) queue.push(c);
    expect(queue.remove(calls[1]!)).toBe(true);
    expect(queue.remove(calls[1]!)).toBe(false);
    expect(queue.remove(calls[0]!)).toBe(true);
    expect(queue.drain().map((c) => c.name)).toEqual(["c"]);
    expect(queue.length).toBe(0);
  });

  test("a request holds at most 65,534 batches (the trailer's u16 count)", () => {
    const queue = new CallQueue<ReturnType<typeof call>>(1_048_320, 1_048_320);
    for (let i = 0; i < 65_535; i++) queue.push(call(create, 0, String(i)));
    expect(queue.shift()!.calls.length).toBe(65_534);
    expect(queue.shift()!.calls.length).toBe(1);
  });
});
