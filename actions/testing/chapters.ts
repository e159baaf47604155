/**
 * Chaptered suites: tests that tell one story in order (push 1, merge, push 2, …), each
 * starting from the state the ones before it left. When a chapter fails, the chapters that
 * depend on it are skipped with one line naming it, so the failure reports its own cause
 * instead of a cascade of confusing ones.
 *
 * Test helper only.
 */
import { it, type TestContext } from 'vitest';

/** How a chapter ended. */
export type ChapterOutcome = 'passed' | 'failed' | 'skipped';

/** Why a chapter does not run: an earlier one it depends on failed, or never ran. */
export interface ChapterBlocker {
  chapter: string;
  why: 'failed' | 'did not run';
}

/**
 * The record of a suite's chapters, pure so that the skipping rule is tested without running a
 * suite. A story chapter depends on every earlier story chapter; a standalone one (a check over
 * the whole story, say) neither depends on others nor blocks them.
 */
export class ChapterLog {
  readonly #story: string[] = [];
  readonly #standalone = new Set<string>();
  readonly #outcomes = new Map<string, { outcome: ChapterOutcome; blocker?: ChapterBlocker }>();

  /** Declares a chapter, in story order. */
  declare(name: string, options: { standalone?: boolean } = {}): void {
    if (this.#story.includes(name) || this.#standalone.has(name))
      throw new Error(`chapter "${name}" is declared twice`);
    if (options.standalone === true) this.#standalone.add(name);
    else this.#story.push(name);
  }

  /**
   * What keeps `name` from running: the first earlier story chapter that failed or never ran
   * (for one skipped, what skipped it); undefined when `name` may run.
   */
  blocker(name: string): ChapterBlocker | undefined {
    const index = this.#story.indexOf(name);
    for (const earlier of this.#story.slice(0, Math.max(index, 0))) {
      const result = this.#outcomes.get(earlier);
      if (result === undefined) return { chapter: earlier, why: 'did not run' };
      if (result.blocker !== undefined) return result.blocker;
      if (result.outcome === 'failed') return { chapter: earlier, why: 'failed' };
    }
    return undefined;
  }

  /** Records how `name` ended; a skipped chapter keeps what blocked it. */
  record(name: string, outcome: ChapterOutcome, blocker?: ChapterBlocker): void {
    this.#outcomes.set(name, { outcome, ...(blocker ? { blocker } : {}) });
  }

  /** How `name` ended, when it has run. */
  outcome(name: string): ChapterOutcome | undefined {
    return this.#outcomes.get(name)?.outcome;
  }
}

/** The one line a chapter skipped because of `blocker` reports. */
export function skippedLine(blocker: ChapterBlocker): string {
  return `skipped: chapter "${blocker.chapter}" ${blocker.why}`;
}

/**
 * A chaptered suite: `chapter(name, body)` declares an `it` that runs only when every earlier
 * story chapter passed, else skips with {@link skippedLine}; `{ standalone: true }` for one
 * that depends on no other chapter.
 */
export function chapters(): {
  chapter: (
    name: string,
    body: (ctx: TestContext) => Promise<void> | void,
    options?: { standalone?: boolean },
  ) => void;
  log: ChapterLog;
} {
  const log = new ChapterLog();
  return {
    log,
    chapter: (name, body, options = {}) => {
      log.declare(name, options);
      it(name, async (ctx) => {
        const blocker = log.blocker(name);
        if (blocker !== undefined) {
          log.record(name, 'skipped', blocker);
          ctx.skip(skippedLine(blocker));
        }
        try {
          await body(ctx);
        } catch (err) {
          log.record(name, 'failed');
          throw err;
        }
        log.record(name, 'passed');
      });
    },
  };
}
