/**
 * How many cases a sampling test (property runs, dates) takes in this run: `quick` in the quick
 * tier (`npm run test:quick`, the loop of a change), `full` in `npm test`, which CI runs. The
 * quick tier samples the same checks; it never skips one (README « Tests », ADR 0020).
 */
export function sampled<T>(counts: { quick: T; full: T }): T {
  return process.env.CIBLES_TEST_TIER === "quick" ? counts.quick : counts.full;
}
