import { describe, expect, it } from 'vitest';

import { ConcurrencyGroups, MAX_QUEUE, type Admission } from './concurrency.ts';

/** Settles pending promise callbacks. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('concurrency groups, as GitHub documents them', () => {
  it('runs one job at a time, keeps one pending, and cancels the older pending one', async () => {
    const groups = new ConcurrencyGroups();
    const first = await groups.acquire({ group: 'pinml-iris', label: 'A' });
    expect(first.admitted).toBe(true);
    const outcomes: Record<string, Admission> = {};
    void groups.acquire({ group: 'pinml-iris', label: 'B' }).then((a) => (outcomes.B = a));
    await tick();
    expect(groups.pending('pinml-iris')).toEqual(['B']);
    void groups.acquire({ group: 'pinml-iris', label: 'C' }).then((a) => (outcomes.C = a));
    await tick();
    expect(outcomes.B).toEqual({
      admitted: false,
      reason: 'Canceling since a higher priority waiting request for pinml-iris exists',
    });
    expect(groups.pending('pinml-iris')).toEqual(['C']);
    // Another group is not affected.
    expect((await groups.acquire({ group: 'pinml-rollback-iris', label: 'R' })).admitted).toBe(
      true,
    );
    if (first.admitted) first.release();
    await tick();
    expect(outcomes.C?.admitted).toBe(true);
    expect(groups.running('pinml-iris')).toBe('C');
  });

  it('cancels the running job with cancel-in-progress', async () => {
    const groups = new ConcurrencyGroups();
    const running = await groups.acquire({ group: 'ci', label: 'A' });
    void groups.acquire({ group: 'ci', label: 'B', cancelInProgress: true });
    await tick();
    expect(running.admitted && running.cancelled()).toMatch(/higher priority waiting request/);
  });

  it('queues in order with queue: max, cancelling the oldest past the cap', async () => {
    const groups = new ConcurrencyGroups();
    const running = await groups.acquire({ group: 'q', label: 'running' });
    const outcomes = new Map<string, Admission>();
    for (let i = 0; i <= MAX_QUEUE; i++) {
      const label = `job${i}`;
      void groups.acquire({ group: 'q', label, queue: true }).then((a) => outcomes.set(label, a));
    }
    await tick();
    expect(groups.pending('q')).toHaveLength(MAX_QUEUE);
    expect(groups.pending('q')[0]).toBe('job1');
    expect(outcomes.get('job0')?.admitted).toBe(false);
    if (running.admitted) running.release();
    await tick();
    expect(groups.running('q')).toBe('job1');
  });
});
