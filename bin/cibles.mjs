#!/usr/bin/env node
// `cibles …` = `npm run cli -- …` (cli.md): the compiled program (`npm run build`, dist/) when it
// exists, else the sources through tsx's loader (a development checkout).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(compiled)) await import(compiled.href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
