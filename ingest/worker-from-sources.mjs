// Starts a worker thread's TypeScript entry from the sources (`npm run cli`, the tests); the
// compiled product starts its `.js` directly and never loads this file.
//
// Worker threads do not inherit tsx's module hooks, and registering them in each worker made
// every module of its graph cross the hooks thread: 1.3 s per worker started (measured here, the
// machine idle), where the same graph bundled loads in 0.5 s. So the entry's graph is bundled
// once by esbuild into node_modules/.cache/cibles-workers and imported from there while its
// sources are unchanged: the manifest keeps each input's sha256, checked at every start (a few
// milliseconds), and any change rebuilds the bundle. Packages stay external (resolved from the
// repository's node_modules); each module keeps its own `import.meta.url`, so that the files it
// finds beside it (SQL, profiles) are found as from the sources.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, "node_modules", ".cache", "cibles-workers");

const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** The bundle a manifest names, if every input it lists (relative to `root`) is unchanged; else null. */
function freshBundle(manifestPath, root, cache) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch {
    return null;
  }
  for (const [file, hash] of Object.entries(manifest.inputs)) {
    try {
      if (sha256(join(root, file)) !== hash) return null;
    } catch {
      return null;
    }
  }
  return join(cache, manifest.bundle);
}

/** Writes `text` at `path` through a file of this process's own, renamed (atomic). */
function writeAtomic(path, text) {
  const partial = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}

/** esbuild plugin: `import.meta.url` and `import.meta.dirname` of each source file, as written. */
const moduleUrls = {
  name: "module-urls",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => ({
      contents: readFileSync(args.path, "utf8")
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path))),
      loader: "ts",
    }));
  },
};

async function bundle(entry, manifestPath, root, cache) {
  const { build } = await import("esbuild");
  const out = await build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    metafile: true,
    write: false,
    outfile: join(cache, `${basename(entry, ".ts")}.mjs`),
    plugins: [moduleUrls],
    logLevel: "silent",
  });
  const inputs = {};
  for (const file of Object.keys(out.metafile.inputs)) inputs[file] = sha256(join(root, file));
  const text = out.outputFiles[0].text;
  const name = `${basename(entry, ".ts")}-${createHash("sha256").update(text).digest("hex").slice(0, 16)}.mjs`;
  mkdirSync(cache, { recursive: true });
  writeAtomic(join(cache, name), text);
  writeAtomic(manifestPath, JSON.stringify({ bundle: name, inputs }));
  return join(cache, name);
}

/**
 * Imports the TypeScript module at `entryUrl` in this worker, from its bundle (made if needed).
 * Should the bundle not be made (no writable cache, esbuild missing or refusing a source), tsx's
 * hooks load the sources as before: slower, and any error in a source is then tsx's to report.
 * `root` (the folder the inputs are named from) and `cache` default to the repository's.
 */
export async function importFromSources(entryUrl, { root = ROOT, cache = CACHE } = {}) {
  const entry = fileURLToPath(entryUrl);
  const manifestPath = join(cache, `${basename(entry, ".ts")}.json`);
  let path = freshBundle(manifestPath, root, cache);
  if (!path) {
    try {
      path = await bundle(entry, manifestPath, root, cache);
    } catch {
      const { register } = await import("tsx/esm/api");
      register();
      await import(entryUrl.href);
      return;
    }
  }
  await import(pathToFileURL(path).href);
}
