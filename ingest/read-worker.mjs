// Boots the reading worker (read-worker.ts): worker threads do not inherit tsx's module hooks,
// so they are registered here, in the worker, before its TypeScript is imported.
import { register } from "tsx/esm/api";

register();
await import("./read-worker.ts");
