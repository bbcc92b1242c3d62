/**
 * Garbage-collection pacing for the processes that import files (ADR 0008). After each full
 * collection V8 lets the old generation grow up to about four times what survived before it
 * collects again; an import allocates fast and keeps little (a few maps per file), so its peak
 * RSS is mostly garbage awaiting collection. Growing by at most twice what survived holds a
 * 2 M-row import at 220–240 MB instead of 270–310 MB, for ~10 % more time (docs/benchmarks.md).
 * The flag only paces collections (no heap limit, no out-of-memory risk); V8 reads it at each
 * collection, so setting it when the process starts is enough.
 */
import v8 from "node:v8";

export const HEAP_GROWING_PERCENT = 100;

export function paceGcForImports(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
