import { abortable, ChannelAborted, Slots } from "../../drivers/exec/sshChannel";

test("at most `limit` holders; waiters are served in order as slots come back", async () => {
  const slots = new Slots(2);
  const never = new AbortController().signal;
  const a = await slots.acquire(never);
  const b = await slots.acquire(never);
  const order: string[] = [];
  const c = slots.acquire(never).then((release) => (order.push("c"), release));
  const d = slots.acquire(never).then((release) => (order.push("d"), release));
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual([]);
  a();
  a(); // releasing twice frees one slot only
  const releaseC = await c;
  await new Promise((r) => setImmediate(r));
  expect(order).toEqual(["c"]);
  b();
  (await d)();
  releaseC();
  // All free again: two acquisitions succeed at once.
  await slots.acquire(never);
  await slots.acquire(never);
});

test("an abort while queued gives up the place in the queue", async () => {
  const slots = new Slots(1);
  const release = await slots.acquire(new AbortController().signal);
  const ac = new AbortController();
  const queued = slots.acquire(ac.signal);
  const next = slots.acquire(new AbortController().signal);
  ac.abort();
  await expect(queued).rejects.toBeInstanceOf(ChannelAborted);
  release();
  await expect(next).resolves.toBeInstanceOf(Function);
  const aborted = AbortSignal.abort();
  await expect(slots.acquire(aborted)).rejects.toBeInstanceOf(ChannelAborted);
});

test("abortable stops waiting on abort and never leaves the awaited promise unobserved", async () => {
  const ac = new AbortController();
  let rejectLater!: (e: Error) => void;
  const slow = new Promise<number>((_, reject) => (rejectLater = reject));
  const waiting = abortable(slow, ac.signal);
  ac.abort();
  await expect(waiting).rejects.toBeInstanceOf(ChannelAborted);
  rejectLater(new Error("late")); // must not become an unhandled rejection
  await expect(abortable(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
  await expect(abortable(Promise.resolve(7), AbortSignal.abort())).rejects.toBeInstanceOf(ChannelAborted);
});
