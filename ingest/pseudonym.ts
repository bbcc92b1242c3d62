/**
 * Pseudonymisation (exports.md §1): usager_id → HMAC-SHA256(secret, finess + ":" + usager_id),
 * every other DUI identifier → HMAC-SHA256(secret, kind + ":" + finess + ":" + id), hex, before
 * anything is stored (ADR 0027). The secret never leaves configuration or DATA_DIR.
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
 * The kinds of DUI identifiers other than the usager's (exports.md §1); the kind is part of what
 * is keyed, so that equal ids of different kinds never share a key. The optional counts' event
 * ids (R-I7) are keyed under their own kind too (ADR 0027).
 */
export const IDENTIFIER_KINDS = [
  "sejour",
  "pp",
  "evenement",
  "message",
  "document",
  "eprescription",
  "eparcours",
] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

/** A DUI identifier's key: HMAC-SHA256(secret, kind + ":" + finess + ":" + id), hex. */
export function keyIdentifier(secret: string, kind: IdentifierKind, finess: string, id: string): string {
  return createHmac("sha256", secret).update(`${kind}:${finess}:${id}`).digest("hex");
}

/**
 * What the database keeps to recognise its secret (ADR 0027): an HMAC of a fixed text, from which
 * the secret cannot be read back, compared at start-up with the configured secret's.
 */
export function secretCheckValue(secret: string): string {
  return createHmac("sha256", secret).update("cibles:controle-du-secret:v1").digest("hex");
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
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (kept.length < 16)
      throw new DomainError(
        "validation",
        `${file} ne contient pas de secret de pseudonymisation (16 caractères au moins) : rétablissez-le depuis sa sauvegarde`,
      );
    return kept;
  }
  assertWritableDir(config.dataDir);
  const secret = randomBytes(32).toString("hex");
  // Owner-only from its creation (`wx`: never over a file another process has just written).
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  return secret;
}
