import { AsyncLocalStorage } from "node:async_hooks";
import { DomainError } from "../domain/errors.ts";

/**
 * How long the current request may wait for the embedded database (epoch ms), set by the API
 * while an upload's import holds it (ADR 0009); undefined: wait as long as it takes.
 */
export const databaseDeadline = new AsyncLocalStorage<number>();

/** The embedded database stayed busy past the request's deadline (an import holds it): 503. */
function databaseBusy(): DomainError {
  return new DomainError(
    "unavailable",
    "la base embarquée est occupée par un import ; réessayez dans quelques secondes",
    { retry_after: 5 },
  );
}

/** A FIFO mutex: PGlite is one session, so every use of it takes turns. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  /** holders and waiters */
  #users = 0;

  /** True while someone holds the lock or waits for it: the session is at work. */
  get busy(): boolean {
    return this.#users > 0;
  }

  async lock(): Promise<() => void> {
    let release!: () => void;
    this.#users += 1;
    const next = new Promise<void>((resolve) => {
      release = () => {
        this.#users -= 1;
        resolve();
      };
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    // PGlite answers within microtasks: a request's queries would follow one another without ever
    // letting the event loop read another connection, so that one user's computation held every
    // other request (issue 29 §7). One macrotask turn per turn of the session lets them in.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return release;
  }

  /**
   * The lock, or a DomainError `unavailable` once the caller's deadline (`databaseDeadline`) has passed. A
   * waiter that gives up keeps its place and releases the lock as soon as it gets it (FIFO).
   */
  async lockBefore(deadline: number | undefined): Promise<() => void> {
    if (deadline === undefined) return this.lock();
    const turn = this.lock();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
    });
    const got = await Promise.race([turn, late]);
    clearTimeout(timer);
    if (got) return got;
    void turn.then((release) => release());
    throw databaseBusy();
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.lockBefore(databaseDeadline.getStore());
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
