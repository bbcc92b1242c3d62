// The production build's second step (after `tsc -p tsconfig.build.json`): the files that the
// compiled modules read next to themselves — SQL (migrations, rule functions, named queries),
// vendor profiles, the rules text of the evidence pack, and the built dashboard — copied into
// dist/ at the same relative places, so that `node dist/cli/main.js` finds them as the sources do.
import { cpSync, existsSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const copies = [
  ["sql/migrations", (f) => f.endsWith(".sql")],
  ["sql/functions", (f) => f.endsWith(".sql")],
  ["sql/queries", (f) => f.endsWith(".sql")],
  ["profiles", () => true],
  ["docs/regles", () => true],
  ["dashboard/dist", () => true],
];
for (const [dir, keep] of copies) {
  const from = join(root, dir);
  const to = join(dist, dir);
  if (!existsSync(from)) {
    process.stderr.write(`copie ignorée : ${dir} absent\n`);
    continue;
  }
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, filter: (src) => statSync(src).isDirectory() || keep(src) });
}
