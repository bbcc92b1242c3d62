/** One import in its own process, so that its peak RSS is its own. Prints one JSON line. */
import { loadConfig } from "../config/index.ts";
import { dbOf } from "../db/index.ts";
import { paceGcForImports } from "../ingest/memory.ts";
import { ingestFile } from "../ingest/pipeline.ts";
import { resolveSecret } from "../ingest/pseudonym.ts";
import { showTimings } from "../ingest/timings.ts";

paceGcForImports(); // as `npm run cli` does

const file = process.argv[2] as string;
const config = loadConfig();
showTimings(config.timings);
const db = await dbOf(config);
const t0 = performance.now();
const r = await ingestFile(db, { path: file }, "agenda_bench.csv", { secret: resolveSecret(config) });
const ms = performance.now() - t0;
await db.close();
process.stdout.write(
  `${JSON.stringify({ status: r.status, loaded: r.loaded, ms, peakMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
