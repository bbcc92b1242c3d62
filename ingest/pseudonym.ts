/**
 * Pseudonymisation (exports.md §1): usager_id → HMAC-SHA256(secret, finess + ":" + usager_id),
 * hex, before anything is stored. The secret never leaves configuration or DATA_DIR.
 */

import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/index.ts";
import { assertWritableDir } from "../db/index.ts";
import { DomainError } from "../domain/errors.ts";

export function pseudonymise(secret: string, finess: string, usagerId: string): string {
  return createHmac("sha256", secret).update(`${finess}:${usagerId}`).digest("hex");
}

/**
 * The pseudonymisation secret of a configuration: PSEUDONYMISATION_SECRET when set (checked by
 * config/); with the embedded database, a secret generated once and kept in DATA_DIR (owner-only);
 * with a DATABASE_URL and no secret, refused: a lost secret would split every usager in two.
 */
export function resolveSecret(
  config: Pick<Config, "pseudonymisationSecret" | "databaseUrl" | "dataDir">,
): string {
  if (config.pseudonymisationSecret) return config.pseudonymisationSecret;
  if (config.databaseUrl) {
    throw new DomainError(
      "validation",
      "PSEUDONYMISATION_SECRET doit être défini avec DATABASE_URL : un secret perdu couperait chaque usager en deux. Conservez-le hors de la base.",
    );
  }
  const file = join(config.dataDir, "pseudonymisation.secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  assertWritableDir(config.dataDir);
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
