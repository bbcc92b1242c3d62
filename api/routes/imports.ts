/** Imports: the scope's list, one import with its rejected rows, uploads (ADR 0009). */

import { acceptUpload, checkUpload, type Sender } from "../../services/imports.ts";
import type { Principal } from "../../sql/identity.ts";
import { finessOfGrappes, getImport, importRejections, listImports } from "../../sql/resources.ts";
import {
  type AppDeps,
  DEFAULT_MAX_UPLOAD,
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
      // Refused before the body is read when the queue is already full.
      if (query.dry_run !== "true") uploadsOf(deps).refuseIfFull();
      const maxBytes = deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
      const received = await receiveUpload(c.req.raw, maxBytes);
      // The same bound holds for its content, decompressed (a `.gz`, ADR 0023).
      const upload = { ...received, maxContentBytes: maxBytes };
      const sender = await senderOf(deps, scope, principal);
      if (query.dry_run === "true")
        return new Reply(
          200,
          await checkUpload(deps.db, uploadsOf(deps), upload, sender, deps.secret, query.kind),
        );
      const importId = await acceptUpload(deps.db, uploadsOf(deps), upload, sender, deps.secret, query.kind);
      c.header("location", `/api/imports/${importId}`);
      return new Reply(202, {
        import_id: importId,
        file: upload.name,
        bytes: upload.bytes,
        status: "running" as const,
      });
    },
  }),
];

/** Who sends a file: a grappe's user may load only its grappes' FINESS. */
async function senderOf(deps: AppDeps, scope: Scope, principal: Principal): Promise<Sender> {
  return {
    email: principal.email,
    actor: actor(principal),
    scopeFiness: scope.all ? undefined : new Set(await finessOfGrappes(deps.db, [...scope.grappes])),
  };
}
