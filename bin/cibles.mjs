#!/usr/bin/env node
// `cibles …` = `npm run cli -- …` (cli.md): the same program, through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
