import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressRouter } from '../src/analysis/progress-router.js';
import type { ProgressEvent } from '../src/analysis/types.js';

const event = (requestId: string): ProgressEvent => ({ type: 'stage', requestId, stage: 'rhythm', rssBytes: 1, wasmHeapBytes: 1 });

test('settle waits until the events the worker posted have been handled, even when the result came first', async () => {
  const router = new ProgressRouter();
  const seen: string[] = [];
  const stop = router.on('r1', (e) => seen.push(e.requestId));
  router.dispatch(event('r1'));
  router.dispatch(event('other'));
  let settled = false;
  const waiting = router.settle('r1', 3).then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'two of three events still in flight');
  router.dispatch(event('r1'));
  router.dispatch(event('r1'));
  await waiting;
  assert.equal(seen.length, 3);
  stop();
  router.dispatch(event('r1'));
  assert.equal(seen.length, 3, 'nothing is routed after the request ended');
});

test('settle gives up after its timeout and resolves at once when nothing is missing', async () => {
  const router = new ProgressRouter();
  router.on('r', () => {});
  const t = performance.now();
  await router.settle('r', 5, 50);
  assert.ok(performance.now() - t >= 45);
  await router.settle('r', 0);
  await router.settle('unknown', 3);
});
