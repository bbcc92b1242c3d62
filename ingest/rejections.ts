/**
 * The rejection log of one file being imported: every rejected row's line, column and French
 * reason (exports.md §2), in bounded memory whatever the file. The first errors stay in memory
 * for the import's result; beyond `inMemory` the others are spilled to a private temporary file
 * (JSON lines, mode 0600, deleted when the import ends) and read back in batches when the log is
 * recorded. A file whose every row is rejected (a wrong vendor profile) would otherwise hold one
 * object per row until its refusal is recorded.
 */
import { closeSync, createReadStream, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { RowError } from "./fields.ts";
import { tempFolder } from "./temp.ts";

/** Rejections kept in memory before they go to the temporary file. */
export const REJECTIONS_IN_MEMORY = 10_000;

/** A log in transit between threads (structured-cloneable). */
export interface RejectionLogState {
  count: number;
  first: RowError[];
  pending: RowError[];
  spill: { dir: string; spilled: number } | null;
}

export class RejectionLog {
  /** rejections logged */
  count = 0;
  /** the first ones, for the import's result */
  readonly first: RowError[] = [];
  private pending: RowError[] = [];
  private spill: { dir: string; fd: number | null } | null = null;
  private spilled = 0;

  /** `onSpill`: told the temporary folder when it is made (whoever must delete it if all fails) */
  constructor(
    private readonly keepFirst: number,
    private readonly inMemory: number = REJECTIONS_IN_MEMORY,
    private readonly onSpill?: (dir: string) => void,
  ) {}

  /** The log, for another thread to adopt; this one stops writing and no longer owns the file. */
  handOver(): RejectionLogState {
    if (this.spill?.fd != null) closeSync(this.spill.fd);
    const state = {
      count: this.count,
      first: this.first,
      pending: this.pending,
      spill: this.spill ? { dir: this.spill.dir, spilled: this.spilled } : null,
    };
    this.spill = null;
    return state;
  }

  /** Takes over a log handed over by another thread (this one must be empty). */
  adopt(state: RejectionLogState): void {
    this.count = state.count;
    this.first.push(...state.first);
    this.pending = state.pending;
    this.spill = state.spill ? { dir: state.spill.dir, fd: null } : null;
    this.spilled = state.spill?.spilled ?? 0;
  }

  add(e: RowError): void {
    this.count += 1;
    if (this.first.length < this.keepFirst) this.first.push(e);
    this.pending.push(e);
    if (this.pending.length >= this.inMemory) this.flush();
  }

  /** Every rejection in logging order, in batches of at most `size`. */
  async *batches(size: number): AsyncGenerator<RowError[]> {
    let batch: RowError[] = [];
    if (this.spill && this.spilled > 0) {
      const lines = createInterface({
        input: createReadStream(join(this.spill.dir, "rejets.jsonl"), { encoding: "utf8" }),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      for await (const line of lines) {
        batch.push(JSON.parse(line) as RowError);
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
    }
    for (const e of this.pending) {
      batch.push(e);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** Deletes the temporary file, if any. */
  dispose(): void {
    if (!this.spill) return;
    if (this.spill.fd !== null) closeSync(this.spill.fd);
    rmSync(this.spill.dir, { recursive: true, force: true });
    this.spill = null;
  }

  private flush(): void {
    if (!this.spill) {
      const dir = tempFolder("rejets-");
      this.spill = { dir, fd: openSync(join(dir, "rejets.jsonl"), "w", 0o600) };
      this.onSpill?.(dir);
    }
    let out = "";
    for (const e of this.pending) out += `${JSON.stringify(e)}\n`;
    if (this.spill.fd === null) throw new Error("journal des rejets repris : plus d'écriture");
    writeSync(this.spill.fd, out);
    this.spilled += this.pending.length;
    this.pending = [];
  }
}
