/**
 * Vendor profiles (exports.md): column renames and extra status synonyms, as data files in
 * profiles/NAME.json, so that adding a DUI vendor is a file, not code.
 */

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DomainError } from "../domain/errors.ts";
import { assertRegularFile } from "./csv.ts";

const PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "profiles");

export const profileSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** source column name → canonical column name, per kind or for all kinds ("*") */
  columns: z.record(z.string(), z.record(z.string(), z.string())).default({}),
  /** "kind.field" → canonical value → extra spellings */
  synonyms: z.record(z.string(), z.record(z.string(), z.array(z.string()))).default({}),
});
export type Profile = z.infer<typeof profileSchema>;

/**
 * A vendor profile of profiles/ by its name only (what an API client may name): never a path.
 * Errors: DomainError "validation" for a name that is not one, "not_found" for an unknown one.
 */
export function loadNamedProfile(name: string): Profile {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name))
    throw new DomainError(
      "validation",
      "profil éditeur : nom attendu (lettres minuscules, chiffres, tirets)",
    );
  return loadProfile(join(PROFILES_DIR, `${name}.json`));
}

export function loadProfile(nameOrPath: string): Profile {
  const path = existsSync(nameOrPath) ? nameOrPath : join(PROFILES_DIR, `${nameOrPath}.json`);
  if (!existsSync(path))
    throw new DomainError("not_found", `profil éditeur « ${nameOrPath} » introuvable (dossier profiles/)`);
  // Bounded before it is read: a regular file (not a FIFO or /dev/zero) of at most 1 MB.
  assertRegularFile(path);
  if (statSync(path).size > 1024 * 1024)
    throw new DomainError("validation", `profil éditeur « ${nameOrPath} » trop volumineux (1 Mo au plus)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new DomainError("validation", `profil éditeur « ${nameOrPath} » illisible (JSON invalide)`);
  }
  const r = profileSchema.safeParse(json);
  if (!r.success)
    throw new DomainError(
      "validation",
      `profil éditeur « ${nameOrPath} » invalide : ${r.error.issues[0]?.message}`,
    );
  return r.data;
}

export function profileRenames(profile: Profile | null, kind: string): Record<string, string> {
  if (!profile) return {};
  return { ...(profile.columns["*"] ?? {}), ...(profile.columns[kind] ?? {}) };
}
