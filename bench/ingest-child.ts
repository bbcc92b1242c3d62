/**
 * Imports in their own process, so that the peak RSS is theirs: each file named on the command
 * line, in order (one export, or a monthly delivery's files). Prints one JSON line: the status
 * (`loaded` when every file loaded, else the first other), the rows loaded, the time, the peak RSS.
 */
import { basename } from "node:path";
import { loadConfig } from "../config/index.ts";
import { dbOf } from "../db/index.ts";
import { paceGcForImports } from "../ingest/memory.ts";
import { ingestFile } from "../ingest/pipeline.ts";
import { resolveSecret } from "../ingest/pseudonym.ts";
import { showTimings } from "../ingest/timings.ts";

paceGcForImports(); // as `npm run cli` does

const files = process.argv.slice(2);
const config = loadConfig();
showTimings(config.timings);
const db = await dbOf(config);
const t0 = performance.now();
let status = "loaded";
let loaded = 0;
for (const file of files) {
  const r = await ingestFile(db, { path: file }, basename(file), { secret: resolveSecret(config) });
  loaded += r.loaded;
  if (r.status !== "loaded" && status === "loaded") status = r.status;
}
const ms = performance.now() - t0;
await db.close();
process.stdout.write(
  `${JSON.stringify({ status, loaded, ms, peakMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
