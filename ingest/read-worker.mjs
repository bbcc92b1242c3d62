// Boots the reading worker (read-worker.ts) from the sources: worker-from-sources.mjs says how.
import { importFromSources } from "./worker-from-sources.mjs";

await importFromSources(new URL("./read-worker.ts", import.meta.url));
