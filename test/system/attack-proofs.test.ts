/**
 * Issue 29, kinds 4 and 8, over real HTTP (127.0.0.1, bounded loops), on both backends: every
 * hostile PDF refused in French without its bytes and nothing stored; every hostile image stored
 * re-encoded, its payload absent from the stored file and from the evidence pack, both hashes
 * listed; a grappe's proofs bounded by PROOF_QUOTA_MB (413 with the figures); the evidence pack
 * of many MB of proofs streamed while /healthz and another user's page keep answering.
 * The server's memory under 200 MB of proofs: test/system/evidence-pack-server.test.ts.
 */
import { createHash } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import sharp from "sharp";
import { afterAll, describe, expect, test } from "vitest";
import { startServer } from "../../api/server.ts";
import type { Db } from "../../db/index.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { attachPiece, proposeAdjustment } from "../../services/adjustments.ts";
import { grappeProofBytes } from "../../sql/pieces.ts";
import { oppositionProposal, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET, tempDir } from "../support/helpers.ts";
import {
  cleanJpeg,
  cleanPdfkitPdf,
  cleanPng,
  containsText,
  hostileImages,
  hostilePdfs,
  javascriptInObjectStream,
  MARKER,
  pdfAfterJunk,
  pngBomb,
  scannedPdf,
} from "../support/proofs.ts";
import { entryBytes, storedEntrySha256, zipEntries } from "../support/zip-read.ts";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

interface PieceAnswer {
  piece_id: number;
  media_type: string;
  size_bytes: number;
  sha256: string;
  original_size_bytes: number;
  original_sha256: string;
}

type Server = { base: string; close: () => Promise<void> };
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(db: Db, proofQuotaBytes?: number): Promise<Server> {
  const srv = await startServer(
    { db, secret: SECRET, log: () => {}, ...(proofQuotaBytes ? { proofQuotaBytes } : {}) },
    0,
    "127.0.0.1",
  );
  const s = { base: `http://127.0.0.1:${srv.port}`, close: async () => void (await srv.close()) };
  servers.push(s);
  return s;
}

/** A client of one server: sessions by role, JSON calls and proof uploads. */
function client({ base }: Server) {
  const cookies = new Map<string, string>();
  const cookie = async (who: keyof typeof USERS) => {
    let c = cookies.get(who);
    if (!c) {
      const res = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ email: USERS[who]?.email, password: PASSWORD }),
      });
      expect(res.status).toBe(200);
      c = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
      cookies.set(who, c);
    }
    return c;
  };
  return {
    base,
    get: async (who: keyof typeof USERS, path: string) =>
      fetch(`${base}${path}`, { headers: { cookie: await cookie(who) } }),
    post: async (who: keyof typeof USERS, path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base, cookie: await cookie(who) },
        body: JSON.stringify(body),
      }),
    /** Sends a proof as a browser does (multipart `file`, a name and a declared type that prove nothing). */
    upload: async (
      adjustmentId: number,
      bytes: Uint8Array,
      name = "preuve.pdf",
      type = "application/pdf",
    ) => {
      const form = new FormData();
      form.set("file", new File([new Uint8Array(bytes)], name, { type }));
      return fetch(`${base}/api/adjustments/${adjustmentId}/pieces`, {
        method: "POST",
        headers: { origin: base, cookie: await cookie("amoa") },
        body: form,
      });
    },
  };
}

/** A fresh proposal of ESSMS 340000017 (grappe T1) to attach proofs to. */
async function proposal(db: Db): Promise<number> {
  return (await proposeAdjustment(db, oppositionProposal("340000017"), USERS.amoa?.email as string))
    .amenagement_id;
}

async function piecesOf(api: ReturnType<typeof client>, id: number): Promise<PieceAnswer[]> {
  const list = (await (await api.get("ars", "/api/adjustments?grappe_id=T1")).json()) as {
    amenagement_id: number;
    pieces: PieceAnswer[];
  }[];
  return list.find((a) => a.amenagement_id === id)?.pieces ?? [];
}

/** Downloads the evidence pack of a fresh snapshot of T1 to a file; how long the first byte and the whole took. */
async function downloadPack(api: ReturnType<typeof client>, path: string) {
  const frozen = await api.post("ars", "/api/grappes/T1/snapshots", { date: "2025-07-01" });
  expect(frozen.status).toBe(201);
  const { snapshot_id } = (await frozen.json()) as { snapshot_id: number };
  const started = performance.now();
  const res = await api.get("ars", `/api/grappes/T1/evidence?snapshot=${snapshot_id}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/zip");
  let firstByteMs = 0;
  let bytes = 0;
  const counted = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>).on(
    "data",
    (c: Buffer) => {
      if (bytes === 0) firstByteMs = performance.now() - started;
      bytes += c.length;
    },
  );
  await pipeline(counted, createWriteStream(path));
  return { firstByteMs, totalMs: performance.now() - started, bytes };
}

describeOnBackends("proofs under attack (issue 29, kinds 4 and 8)", { seed: populate }, () => {
  it("refuses every hostile PDF with a French reason and without its bytes, and stores none of them", async ({
    db,
  }) => {
    const api = client(await serve(db));
    const id = await proposal(db);
    const hostile = Object.entries(hostilePdfs());
    hostile.push([
      "JavaScript de pdf-lib dans un flux d'objets",
      { bytes: await javascriptInObjectStream(), finding: "javascript" },
    ]);
    for (const [name, { bytes }] of hostile) {
      const res = await api.upload(id, bytes, "attestation.pdf");
      const problem = (await res.json()) as { code: string; detail: string };
      expect({ name, status: res.status, code: problem.code }).toEqual({
        name,
        status: 422,
        code: "file_refused",
      });
      expect(problem.detail).toMatch(/^pièce refusée : ce PDF (contient|ne peut pas être vérifié)/);
      expect(problem.detail).not.toContain(MARKER);
    }
    // A PDF that starts after junk is not a PDF: 415, whatever its name and declared type.
    const junk = await api.upload(id, pdfAfterJunk(), "attestation.pdf");
    expect(junk.status).toBe(415);
    expect(((await junk.json()) as { detail: string }).detail).toMatch(/seuls les fichiers PDF, PNG et JPEG/);
    expect(await piecesOf(api, id)).toEqual([]);
    // A clean PDF is stored as it was sent: one sha256, one size.
    const clean = await cleanPdfkitPdf();
    const ok = await api.upload(id, clean);
    expect(ok.status).toBe(201);
    expect((await ok.json()) as PieceAnswer).toMatchObject({
      media_type: "application/pdf",
      size_bytes: clean.length,
      sha256: sha256(clean),
      original_size_bytes: clean.length,
      original_sha256: sha256(clean),
    });
  });

  it("stores hostile images re-encoded, pixels only: the payload is in neither the stored file nor the evidence pack", async ({
    db,
  }) => {
    const api = client(await serve(db));
    const id = await proposal(db);
    const sent: { name: string; bytes: Uint8Array; piece: PieceAnswer }[] = [];
    for (const [name, { bytes, type }] of Object.entries(await hostileImages())) {
      expect(containsText(bytes)).toBe(true);
      const res = await api.upload(id, bytes, `photo.${type === "png" ? "png" : "jpg"}`, `image/${type}`);
      expect({ name, status: res.status }).toEqual({ name, status: 201 });
      const piece = (await res.json()) as PieceAnswer;
      expect(piece.media_type).toBe(`image/${type}`);
      expect(piece.original_sha256).toBe(sha256(bytes));
      expect(piece.original_size_bytes).toBe(bytes.length);
      expect(piece.sha256).not.toBe(piece.original_sha256);
      sent.push({ name, bytes, piece });
      // What is stored: the same picture (same format and size), without the payload.
      const stored = new Uint8Array(
        await (await api.get("ars", `/api/adjustments/${id}/pieces/${piece.piece_id}`)).arrayBuffer(),
      );
      expect(sha256(stored)).toBe(piece.sha256);
      expect(containsText(stored)).toBe(false);
      expect(containsText(stored, "<script")).toBe(false);
      const [before, after] = await Promise.all([sharp(bytes).metadata(), sharp(stored).metadata()]);
      expect({ format: after.format, width: after.width, height: after.height }).toEqual({
        format: type,
        width: before.width,
        height: before.height,
      });
    }
    // Images that cannot be decoded safely are refused: a bomb, a truncated file.
    const bomb = await api.upload(id, await pngBomb(), "plan.png", "image/png");
    expect(bomb.status).toBe(422);
    expect(((await bomb.json()) as { detail: string }).detail).toMatch(
      /image trop grande \(40 mégapixels au plus\)/,
    );
    const png = await cleanPng();
    const cut = await api.upload(id, png.subarray(0, png.length - 40), "coupée.png", "image/png");
    expect(cut.status).toBe(422);
    expect(((await cut.json()) as { detail: string }).detail).toBe(
      "pièce refusée : image illisible ou endommagée",
    );

    // The evidence pack: each image as stored, both hashes in pieces.csv, no payload anywhere.
    const path = join(tempDir(), "preuves.zip");
    await downloadPack(api, path);
    const entries = zipEntries(path);
    const csv = Buffer.from(entryBytes(path, entries.find((e) => e.name === "pieces.csv") as never)).toString(
      "utf8",
    );
    for (const { piece } of sent) {
      const entry = entries.find((e) => e.name.startsWith(`pieces/amenagement${id}_piece${piece.piece_id}.`));
      expect(entry).toBeDefined();
      expect(await storedEntrySha256(path, entry as never)).toBe(piece.sha256);
      expect(containsText(entryBytes(path, entry as never))).toBe(false);
      expect(csv).toContain(
        `;${piece.size_bytes};${piece.sha256};${piece.original_size_bytes};${piece.original_sha256};image ré-encodée (pixels seuls);`,
      );
    }
    expect(containsText(new Uint8Array(readFileSync(path)))).toBe(false);
  });

  it("refuses a proof beyond the grappe's quota with 413 and the figures in French, and stores nothing", async ({
    db,
  }) => {
    const used = await grappeProofBytes(db, "T1");
    const api = client(await serve(db, used + 1024 * 1024));
    const id = await proposal(db);
    const pdf = (seed: number) => scannedPdf(400 * 1024, seed);
    expect((await api.upload(id, pdf(1))).status).toBe(201);
    expect((await api.upload(id, pdf(2))).status).toBe(201);
    const over = await api.upload(id, pdf(3));
    expect(over.status).toBe(413);
    const problem = (await over.json()) as {
      code: string;
      detail: string;
      quota_bytes: number;
      used_bytes: number;
    };
    expect(problem.code).toBe("payload_too_large");
    expect(problem.detail).toMatch(
      /^quota des pièces justificatives de la grappe T1 atteint : [\d,]+ Mo déjà déposés, cette pièce de 0,4 Mo porterait le total à [\d,]+ Mo, au-delà de [\d,]+ Mo \(PROOF_QUOTA_MB\)$/,
    );
    expect(problem.used_bytes).toBe(used + pdf(1).length + pdf(2).length);
    expect(await piecesOf(api, id)).toHaveLength(2);
    expect(await grappeProofBytes(db, "T1")).toBe(problem.used_bytes);
    // Uploads at once cannot both pass the quota: the grappe's row is locked while counting.
    const left = problem.quota_bytes - problem.used_bytes;
    const small = (seed: number) => scannedPdf(Math.floor(left * 0.6), seed);
    const [a, b] = await Promise.all([api.upload(id, small(4)), api.upload(id, small(5))]);
    expect([a.status, b.status].sort()).toEqual([201, 413]);
  });

  it("streams the evidence pack of many MB of proofs while /healthz and another user's page answer within 2 s", async ({
    db,
  }) => {
    const server = await serve(db);
    const api = client(server);
    // 8 proofs of 5 Mo, checked and stored as an upload would be.
    const stored: { id: number; piece: PieceAnswer }[] = [];
    const id = await proposal(db);
    for (let seed = 10; seed < 18; seed++) {
      const proof = await checkProof(scannedPdf(5 * 1024 * 1024 - 4096, seed));
      stored.push({
        id,
        piece: (await attachPiece(db, id, proof, USERS.amoa?.email as string)) as PieceAnswer,
      });
    }
    const path = join(tempDir(), "preuves.zip");
    let slowestHealth = 0;
    let slowestPage = 0;
    let polls = 0;
    let done = false;
    const poll = (async () => {
      // Bounded: until the download ends, at most 600 rounds.
      while (!done && polls < 600) {
        polls++;
        let t = performance.now();
        expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
        slowestHealth = Math.max(slowestHealth, performance.now() - t);
        t = performance.now();
        expect((await api.get("chef_projet", "/api/grappes/T1?date=2025-07-01")).status).toBe(200);
        slowestPage = Math.max(slowestPage, performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // The event loop of this process, which is the server's: never held long by the download.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const pack = await downloadPack(api, path).finally(() => {
      done = true;
      loop.disable();
    });
    await poll;
    const loopMaxMs = loop.max / 1e6;
    expect(loopMaxMs).toBeLessThan(1000);
    expect(pack.firstByteMs).toBeLessThan(2000);
    expect(pack.bytes).toBeGreaterThan(40 * 1024 * 1024);
    expect(polls).toBeGreaterThan(1);
    expect(slowestHealth).toBeLessThan(2000);
    expect(slowestPage).toBeLessThan(2000);
    // Every proof is in the pack, byte for byte.
    const entries = zipEntries(path);
    for (const { piece } of stored) {
      const entry = entries.find((e) => e.name === `pieces/amenagement${id}_piece${piece.piece_id}.pdf`);
      expect(await storedEntrySha256(path, entry as never)).toBe(piece.sha256);
    }
    expect(entries[0]?.name).toBe("synthese.pdf");
    process.stderr.write(
      `[${db.backend}] dossier de preuve de ${(pack.bytes / 1048576).toFixed(0)} Mo : premier octet ${pack.firstByteMs.toFixed(0)} ms, tout ${pack.totalMs.toFixed(0)} ms, boucle d'événements bloquée ${loopMaxMs.toFixed(0)} ms au plus ; /healthz ${slowestHealth.toFixed(0)} ms au plus, page ${slowestPage.toFixed(0)} ms au plus (${polls} tours)\n`,
    );
  });
});

describe("the proof check, one function for every upload (issue 29 §8)", () => {
  test("takes PDFs only when asked (a milestone's PV), and re-encodes a clean JPEG as a JPEG", async () => {
    const png = await cleanPng();
    await expect(checkProof(png, ["application/pdf"])).rejects.toMatchObject({
      code: "unsupported_media_type",
      message:
        "pièce refusée : seuls les fichiers PDF sont acceptés (reconnus à leur contenu, pas à leur nom)",
    });
    const pdf = await cleanPdfkitPdf();
    expect(await checkProof(pdf, ["application/pdf"])).toMatchObject({
      mediaType: "application/pdf",
      reencoded: false,
    });
    const jpeg = await checkProof(await cleanJpeg());
    expect(jpeg).toMatchObject({ mediaType: "image/jpeg", reencoded: true });
    expect((await sharp(jpeg.content).metadata()).format).toBe("jpeg");
  });
});
