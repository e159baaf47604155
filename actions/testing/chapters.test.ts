import { describe, expect, it } from 'vitest';
import { ChapterLog, skippedLine } from './chapters.ts';

function story(...names: string[]): ChapterLog {
  const log = new ChapterLog();
  for (const name of names) log.declare(name);
  return log;
}

describe('a chapter log', () => {
  it('lets the first chapter run, and the next once it passed', () => {
    const log = story('push 1', 'merge');
    expect(log.blocker('push 1')).toBeUndefined();
    log.record('push 1', 'passed');
    expect(log.blocker('merge')).toBeUndefined();
  });

  it('blocks every later chapter on the one that failed, naming it', () => {
    const log = story('push 1', 'merge', 'push 2');
    log.record('push 1', 'failed');
    const blocker = log.blocker('merge');
    expect(blocker).toEqual({ chapter: 'push 1', why: 'failed' });
    log.record('merge', 'skipped', blocker);
    expect(log.blocker('push 2')).toEqual({ chapter: 'push 1', why: 'failed' });
    expect(skippedLine({ chapter: 'push 1', why: 'failed' })).toBe(
      'skipped: chapter "push 1" failed',
    );
  });

  it('names a failure in the middle, not the chapters before it', () => {
    const log = story('push 1', 'merge', 'push 2');
    log.record('push 1', 'passed');
    log.record('merge', 'failed');
    expect(log.blocker('push 2')).toEqual({ chapter: 'merge', why: 'failed' });
  });

  it('blocks a chapter whose predecessor never ran (a name filter left it out)', () => {
    const log = story('push 1', 'merge');
    expect(log.blocker('merge')).toEqual({ chapter: 'push 1', why: 'did not run' });
  });

  it('runs a standalone chapter whatever failed, and does not block on it', () => {
    const log = story('push 1');
    log.declare('never leaks a token', { standalone: true });
    log.declare('push 2');
    log.record('push 1', 'passed');
    log.record('never leaks a token', 'failed');
    expect(log.blocker('push 2')).toBeUndefined();
    log.record('push 1', 'failed');
    expect(log.blocker('never leaks a token')).toBeUndefined();
    expect(log.outcome('never leaks a token')).toBe('failed');
  });

  it('refuses a chapter declared twice', () => {
    const log = story('push 1');
    expect(() => log.declare('push 1')).toThrow(/declared twice/);
  });
});
