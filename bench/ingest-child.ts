/** One import in its own process, so that its peak RSS is its own. Prints one JSON line. */
import { dbFromEnv } from "../db/index.ts";
import { paceGcForImports } from "../ingest/memory.ts";
import { ingestFile } from "../ingest/pipeline.ts";
import { resolveSecret } from "../ingest/pseudonym.ts";

paceGcForImports(); // as `npm run cli` does

const file = process.argv[2] as string;
const db = await dbFromEnv();
const t0 = performance.now();
const r = await ingestFile(db, { path: file }, "agenda_bench.csv", { secret: resolveSecret() });
const ms = performance.now() - t0;
await db.close();
process.stdout.write(
  `${JSON.stringify({ status: r.status, loaded: r.loaded, ms, peakMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
