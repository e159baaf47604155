/**
 * GitHub's concurrency groups, as the workflow harness keeps them: one per repository, shared by
 * every run. What GitHub documents ("Control the concurrency of workflows and jobs"):
 *
 * - a group runs one job (or workflow) at a time; a job that arrives while another runs is
 *   `pending`;
 * - a group keeps at most one pending job: a newer arrival cancels the older pending one
 *   ("Canceling since a higher priority waiting request for `<group>` exists");
 * - `cancel-in-progress: true` also cancels the running one when a newer job arrives;
 * - `queue: max` keeps pending jobs in order instead, up to 100; an arrival past that cancels
 *   the oldest pending one. (`@actions/workflow-parser` 0.3 does not accept the key yet, so
 *   pinml's workflows do not use it; the harness models it for when they do.)
 *
 * Test helper only.
 */

/** How a job asks for its group (its `concurrency:`). */
export interface Ask {
  group: string;
  /** Who asks, for logs and {@link ConcurrencyGroups.pending}: `train.yml #3 decide (iris)`. */
  label: string;
  cancelInProgress?: boolean;
  /** `queue: max`: wait in order (up to {@link MAX_QUEUE}) instead of one pending at a time. */
  queue?: boolean;
}

/** What the job got: the group (release it when done), or a cancellation with GitHub's reason. */
export type Admission =
  | { admitted: true; release: () => void; cancelled: () => string | undefined }
  | { admitted: false; reason: string };

/** The most pending jobs `queue: max` keeps per group. */
export const MAX_QUEUE = 100;

interface Waiter {
  label: string;
  admit(a: Admission): void;
}

interface Holder {
  label: string;
  cancelled?: string;
}

interface Group {
  holder: Holder | undefined;
  waiting: Waiter[];
}

/** The concurrency groups of one repository. */
export class ConcurrencyGroups {
  readonly #groups = new Map<string, Group>();

  #group(name: string): Group {
    let g = this.#groups.get(name);
    if (g === undefined) this.#groups.set(name, (g = { holder: undefined, waiting: [] }));
    return g;
  }

  /** Resolves when the job may run (or is cancelled while it waits). */
  acquire(ask: Ask): Promise<Admission> {
    const g = this.#group(ask.group);
    if (g.holder === undefined) return Promise.resolve(this.#admit(ask.group, g, ask.label));
    if (ask.cancelInProgress) {
      g.holder.cancelled = `Canceling since a higher priority waiting request for ${ask.group} exists`;
    }
    const keep = ask.queue ? MAX_QUEUE - 1 : 0;
    while (g.waiting.length > keep) {
      const older = g.waiting.shift() as Waiter;
      older.admit({
        admitted: false,
        reason: `Canceling since a higher priority waiting request for ${ask.group} exists`,
      });
    }
    return new Promise<Admission>((resolve) => {
      g.waiting.push({ label: ask.label, admit: resolve });
    });
  }

  #admit(name: string, g: Group, label: string): Admission {
    const holder: Holder = { label };
    g.holder = holder;
    let released = false;
    return {
      admitted: true,
      cancelled: () => holder.cancelled,
      release: () => {
        if (released) return;
        released = true;
        g.holder = undefined;
        const next = g.waiting.shift();
        if (next !== undefined) next.admit(this.#admit(name, g, next.label));
      },
    };
  }

  /** Holds `group` as a job of another run would, until the returned function is called. */
  async hold(group: string, label = 'another run'): Promise<() => void> {
    const a = await this.acquire({ group, label });
    if (!a.admitted) throw new Error(`could not hold ${group}: ${a.reason}`);
    return () => a.release();
  }

  /** The jobs waiting for `group`, oldest first. */
  pending(group: string): string[] {
    return (this.#groups.get(group)?.waiting ?? []).map((w) => w.label);
  }

  /** The job running in `group`, if any. */
  running(group: string): string | undefined {
    return this.#groups.get(group)?.holder?.label;
  }
}

const byRepository = new WeakMap<object, ConcurrencyGroups>();

/** The groups of a repository (keyed by its sandbox): every run against it shares them. */
export function concurrencyOf(repository: object): ConcurrencyGroups {
  let groups = byRepository.get(repository);
  if (groups === undefined) byRepository.set(repository, (groups = new ConcurrencyGroups()));
  return groups;
}
