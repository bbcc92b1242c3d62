/**
 * The command line (shared/spec/cli.md). Thin: parse, call one function, print. `--json` prints
 * one JSON document on stdout; people's messages go to stderr. Exit 0 ok, 1 refused/failed, 2 usage.
 */
import { parseArgs } from "node:util";
import "../domain/zod-fr.ts";
import { type Config, loadConfig } from "../config/index.ts";
import { DomainError } from "../domain/errors.ts";
import { paceGcForImports } from "../ingest/memory.ts";
import { showTimings } from "../ingest/timings.ts";
import { commands, usageError } from "./commands.ts";
import { parseArgsMessage, personMessage } from "./messages.ts";

// Every long-running command may import files (ingest, worker, serve): bounded peak memory.
paceGcForImports();

const [group, ...rest] = process.argv.slice(2);
/** Parsed once, before any command runs: a bad value stops every command (config/). */
let config: Config | undefined;

async function main(): Promise<number> {
  if (!group || group === "--help" || group === "-h" || group === "help") {
    process.stderr.write(usage());
    return group ? 0 : 2;
  }
  let name = group;
  let args = rest;
  const sub = rest[0];
  if (sub && !sub.startsWith("-") && commands[`${group} ${sub}`]) {
    name = `${group} ${sub}`;
    args = rest.slice(1);
  }
  const cmd = commands[name];
  if (!cmd) throw usageError(`commande inconnue : ${[group, ...rest.slice(0, 1)].join(" ")}`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: cmd.options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(parseArgsMessage(e));
  }
  config = loadConfig(process.env);
  showTimings(config.timings);
  return cmd.run(
    parsed.values as Record<string, string | boolean | string[] | undefined>,
    parsed.positionals,
    config,
  );
}

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(22)} ${c.summary}`);
  return `Usage : npm run cli -- <commande> [options]\n\nCommandes :\n${lines.join("\n")}\n\nToutes les commandes acceptent --json.\n`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof DomainError && e.code === "usage") {
      process.stderr.write(`Erreur d'utilisation : ${e.message}\n\n${usage()}`);
      process.exitCode = 2;
      return;
    }
    const msg = personMessage(e);
    if (config?.debug) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify({ error: msg })}\n`);
    process.stderr.write(`Erreur : ${msg}\n`);
    process.exitCode = 1;
  },
);
