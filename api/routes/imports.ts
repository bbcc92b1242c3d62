/** Imports: the scope's list, one import with its rejected rows, uploads (ADR 0009). */

import type { Context } from "hono";
import { DomainError } from "../../domain/errors.ts";
import { ingestSource } from "../../ingest/ingest.ts";
import { kindFromFileName } from "../../ingest/kinds.ts";
import { combineResults } from "../../ingest/tddui.ts";
import { audit } from "../../sql/audit.ts";
import type { Principal } from "../../sql/identity.ts";
import { reserveImport } from "../../sql/imports.ts";
import { finessOfGrappes, getImport, importRejections, listImports } from "../../sql/resources.ts";
import {
  type AppDeps,
  DEFAULT_MAX_UPLOAD,
  type Env,
  handle,
  Reply,
  type RouteDef,
  type Scope,
  uploadsOf,
} from "../registry.ts";
import { receiveUpload } from "../uploads.ts";
import { actor, notFound, scopeList } from "./scope.ts";

export const IMPORTS: RouteDef[] = [
  handle("imports", {
    handler: async ({ deps, scope, principal }) => listImports(deps.db, scopeList(scope), principal.email),
  }),

  handle("importDetail", {
    handler: async ({ deps, scope, params, principal }) => {
      const i = await getImport(deps.db, params.import_id, scopeList(scope), principal.email);
      if (!i) notFound(`import ${params.import_id}`);
      const { whole, ...row } = i;
      const visible = whole
        ? { whole: true as const }
        : { whole: false as const, grappeIds: [...scope.grappes] };
      const rowsRead = i.status === "running" ? uploadsOf(deps).progressOf(i.import_id) : null;
      return {
        ...row,
        ...(rowsRead !== null ? { progress: { rows_read: rowsRead } } : {}),
        rejections: await importRejections(deps.db, i.import_id, visible),
      };
    },
  }),

  handle("upload", {
    handler: async ({ deps, c, scope, principal, query }) => {
      if (query.dry_run === "true") return checkUpload(deps, c, scope, principal);
      if (uploadsOf(deps).full)
        throw new DomainError(
          "unavailable",
          "trop d'imports en attente sur ce serveur ; renvoyez le fichier dans une minute",
          { retry_after: 60 },
        );
      const upload = await receiveUpload(
        c.req.raw.body,
        c.req.header("content-type"),
        c.req.header("content-length"),
        deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD,
      );
      try {
        const scopeFiness = scope.all
          ? undefined
          : new Set(await finessOfGrappes(deps.db, [...scope.grappes]));
        const importId = await reserveImport(
          deps.db,
          upload.name,
          kindFromFileName(upload.name) ?? "inconnu",
          principal.email,
          !scope.all,
        );
        const who = actor(principal);
        void uploadsOf(deps).enqueue({
          importId,
          upload,
          options: {
            secret: deps.secret,
            source: "api",
            actor: principal.email,
            ...(scopeFiness ? { scopeFiness } : {}),
          },
          done: async (r) =>
            audit(deps.db, who, "import.upload", "import", String(importId), null, null, {
              file: upload.name,
              bytes: upload.bytes,
              status: r.status,
              rows: r.rows,
              loaded: r.loaded,
              rejected: r.rejected,
            }),
        });
        c.header("location", `/api/imports/${importId}`);
        return new Reply(202, {
          import_id: importId,
          file: upload.name,
          bytes: upload.bytes,
          status: "running" as const,
        });
      } catch (e) {
        upload.discard();
        throw e;
      }
    },
  }),
];

/**
 * A dry run of an upload (issue 16 §2): the file read, validated and merged exactly as an import,
 * in a transaction rolled back; 200 with the result and what it would change. Nothing is stored,
 * not even an import record; the audit log says who checked which file.
 */
async function checkUpload(deps: AppDeps, c: Context<Env>, scope: Scope, principal: Principal) {
  const upload = await receiveUpload(
    c.req.raw.body,
    c.req.header("content-type"),
    c.req.header("content-length"),
    deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD,
  );
  try {
    const scopeFiness = scope.all ? undefined : new Set(await finessOfGrappes(deps.db, [...scope.grappes]));
    // A TDDUI Bundle (ADR 0014): its kinds checked together in one transaction, added up.
    const r = combineResults(
      upload.name,
      await ingestSource(deps.db, { path: upload.path }, upload.name, {
        secret: deps.secret,
        source: "api",
        actor: principal.email,
        ...(scopeFiness ? { scopeFiness } : {}),
        dryRun: true,
      }),
    );
    await audit(deps.db, actor(principal), "import.check", "import", "essai", null, null, {
      file: upload.name,
      bytes: upload.bytes,
      status: r.status,
      rows: r.rows,
    });
    return new Reply(200, { ...r, dry_run: true as const });
  } finally {
    upload.discard();
  }
}
