// Boots the proof-checking worker (proof-worker.ts): worker threads do not inherit tsx's module
// hooks, so they are registered here, in the worker, before its TypeScript is imported.
import { register } from "tsx/esm/api";

register();
await import("./proof-worker.ts");
