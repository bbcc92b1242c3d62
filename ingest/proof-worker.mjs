// Boots the proof-checking worker (proof-worker.ts) from the sources: worker-from-sources.mjs says how.
import { importFromSources } from "./worker-from-sources.mjs";

await importFromSources(new URL("./proof-worker.ts", import.meta.url));
