/** Phase timings of an import on stderr, for whoever measures (CIBLES_TIMINGS=1); silent otherwise. */

let shown = false;

/** Turns the timings on or off for this process (set once at start-up from CIBLES_TIMINGS, config/). */
export function showTimings(on: boolean): void {
  shown = on;
}

export function timing(phase: string, since: number): void {
  spentTiming(phase, performance.now() - since);
}

export function spentTiming(phase: string, ms: number): void {
  if (shown) process.stderr.write(`[import] ${phase} : ${Math.round(ms)} ms\n`);
}

/** Where the time of the chunk loop went (pipeline.ts `stageAndMerge`), phase by phase. */
export interface LoadTimes {
  read: number;
  usagers: number;
  /** usagers without a dossier looked for (ingest/dossier-watch.ts) */
  dossiers: number;
  copy: number;
  merge: number;
}

export function reportLoadTimes(
  since: number,
  chunks: number,
  mode: { upsert: boolean; repeatedKeys: boolean },
  spent: LoadTimes,
): void {
  timing(`lecture, validation, COPY et fusion (${chunks} lots)`, since);
  spentTiming("  dont attente de la lecture", spent.read);
  spentTiming("  dont clés usagers", spent.usagers);
  spentTiming("  dont usagers sans dossier", spent.dossiers);
  spentTiming("  dont COPY", spent.copy);
  spentTiming(
    `  dont fusion (${mode.upsert ? "upsert" : "insert"}${mode.repeatedKeys ? ", distinct on" : ""})`,
    spent.merge,
  );
}
