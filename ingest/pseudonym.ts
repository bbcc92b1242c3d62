/**
 * Pseudonymisation (exports.md §1): usager_id → HMAC-SHA256(secret, finess + ":" + usager_id),
 * hex, before anything is stored. The secret never leaves configuration or DATA_DIR.
 */

import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DomainError } from "../domain/errors.ts";

export function pseudonymise(secret: string, finess: string, usagerId: string): string {
  return createHmac("sha256", secret).update(`${finess}:${usagerId}`).digest("hex");
}

/**
 * PSEUDONYMISATION_SECRET when set; with the embedded database, a secret generated once and kept
 * in DATA_DIR; with a DATABASE_URL and no secret, refuse: a lost secret would split every usager.
 */
export function resolveSecret(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PSEUDONYMISATION_SECRET?.trim();
  if (fromEnv) {
    if (fromEnv.length < 16)
      throw new DomainError("validation", "PSEUDONYMISATION_SECRET est trop court (16 caractères au moins)");
    return fromEnv;
  }
  if (env.DATABASE_URL) {
    throw new DomainError(
      "validation",
      "PSEUDONYMISATION_SECRET doit être défini avec DATABASE_URL : un secret perdu couperait chaque usager en deux. Conservez-le hors de la base.",
    );
  }
  const dir = env.DATA_DIR || "./data";
  const file = join(dir, "pseudonymisation.secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
