import assert from "node:assert/strict";
import { Interrupted, RealClock, VirtualClock } from "../../lib/core/clock.ts";

const START = Date.UTC(2026, 10, 26, 9, 0, 0);

/** True when `p` has settled before any timer could have fired. */
async function settledAtOnce(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => settled = true, () => settled = true);
  await Promise.resolve();
  await Promise.resolve();
  return settled;
}

Deno.test("VirtualClock.now() starts at the start time and advances by the sleeps", async () => {
  const clock = new VirtualClock(START);
  assert.equal(clock.now(), START);
  await clock.sleep(1500);
  assert.equal(clock.now(), START + 1500);
  await clock.sleep(0.25);
  await clock.sleep(3_600_000);
  assert.equal(clock.now(), START + 1500 + 0.25 + 3_600_000);
});

Deno.test("VirtualClock.sleep() ignores negative durations", async () => {
  const clock = new VirtualClock(START);
  await clock.sleep(-500);
  assert.equal(clock.now(), START);
});

Deno.test("VirtualClock.sleep() does not wait for a timer", async () => {
  const clock = new VirtualClock(START);
  assert.ok(await settledAtOnce(clock.sleep(365 * 86_400_000)));
  assert.equal(clock.now(), START + 365 * 86_400_000);
});

Deno.test("VirtualClock.sleep() rejects with Interrupted once aborted", async () => {
  const ac = new AbortController();
  const clock = new VirtualClock(START, { signal: ac.signal });
  await clock.sleep(10);
  ac.abort();
  for (let i = 0; i < 3; i++) await assert.rejects(clock.sleep(10), Interrupted);
  assert.equal(clock.now(), START + 10);
});

Deno.test("VirtualClock.sleep() yields every 4096 sleeps when wall time went by", async () => {
  let wall = 0;
  let yields = 0;
  const clock = new VirtualClock(START, {
    wallNow: () => (wall += 100),
    beforeYield: () => yields++,
  });
  for (let i = 0; i < 4095; i++) await clock.sleep(1);
  assert.equal(yields, 0);
  await clock.sleep(1);
  assert.equal(yields, 1);
  for (let i = 0; i < 4096; i++) await clock.sleep(1);
  assert.equal(yields, 2);
  assert.equal(clock.now(), START + 2 * 4096);
});

Deno.test("VirtualClock.sleep() does not yield when no wall time went by", async () => {
  let yields = 0;
  const clock = new VirtualClock(START, { wallNow: () => 5, beforeYield: () => yields++ });
  for (let i = 0; i < 3 * 4096; i++) await clock.sleep(1);
  assert.equal(yields, 0);
});

Deno.test("VirtualClock.sleep() rejects when the abort arrives while it yields", async () => {
  const ac = new AbortController();
  let wall = 0;
  const clock = new VirtualClock(START, {
    signal: ac.signal,
    wallNow: () => (wall += 100),
    beforeYield: () => ac.abort(),
  });
  for (let i = 0; i < 4095; i++) await clock.sleep(1);
  await assert.rejects(clock.sleep(1), Interrupted);
});

Deno.test("RealClock.now() is the start plus real elapsed time times the speed", () => {
  let real = 50_000;
  const clock = new RealClock({ speed: 60, startMs: START, realNow: () => real });
  assert.equal(clock.now(), START);
  real += 1000;
  assert.equal(clock.now(), START + 60_000);
  real += 250;
  assert.equal(clock.now(), START + 75_000);
});

Deno.test("RealClock.sleep() resolves and calls beforeSleep", async () => {
  let before = 0;
  const clock = new RealClock({
    speed: 1000,
    startMs: START,
    realNow: () => 0,
    beforeSleep: () => before++,
  });
  await clock.sleep(2);
  await clock.sleep(0);
  assert.equal(before, 2);
  assert.equal(clock.now(), START); // the fake real clock did not move
});

Deno.test("RealClock.sleep() rejects promptly with Interrupted when aborted", async () => {
  const ac = new AbortController();
  const clock = new RealClock({ speed: 1, startMs: START, realNow: () => 0, signal: ac.signal });
  const pending = clock.sleep(3_600_000);
  ac.abort();
  assert.ok(await settledAtOnce(pending));
  await assert.rejects(pending, Interrupted);
});

Deno.test("RealClock.sleep() rejects at once after an abort", async () => {
  const ac = new AbortController();
  let before = 0;
  const clock = new RealClock({
    speed: 1,
    startMs: START,
    realNow: () => 0,
    signal: ac.signal,
    beforeSleep: () => before++,
  });
  ac.abort();
  await assert.rejects(clock.sleep(3_600_000), Interrupted);
  await assert.rejects(clock.sleep(1), Interrupted);
  assert.equal(before, 0);
});

Deno.test("Interrupted is an Error named Interrupted", () => {
  const e = new Interrupted();
  assert.ok(e instanceof Error);
  assert.equal(e.name, "Interrupted");
  assert.equal(e.message, "Interrupted");
});
