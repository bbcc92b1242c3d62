/**
 * Gives the suite a real PostgreSQL server: TEST_DATABASE_URL when set, else one started from
 * Debian's binaries. Without one, outside CI, one visible line says the server tests did not
 * run; under CI=true that is a failure.
 */
import type { TestProject } from "vitest/node";
import { startPgServer } from "./pg-server.ts";

let stop: (() => void) | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL || "";
  if (!url) {
    const started = await startPgServer();
    if ("url" in started) {
      url = started.url;
      stop = started.stop;
    } else {
      const line = `⚠ Tests sur serveur PostgreSQL NON exécutés : ${started.error}`;
      if (process.env.CI === "true") throw new Error(`${line} (obligatoires sous CI=true)`);
      process.stderr.write(`\n${line}\n\n`);
    }
  }
  project.provide("pgUrl", url);
  return () => stop?.();
}

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string;
  }
}
