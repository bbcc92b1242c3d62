/**
 * Issue 31's « never lost, never twice » with real processes on a real PostgreSQL and a real SMTP
 * server on 127.0.0.1: two `notifications send --once` at the same time send each mail once; a
 * sender killed (kill -9) after the SMTP server has taken a mail but before its own mark loses
 * nothing, and the only repeat carries the same Message-ID.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, openDb } from "../../db/index.ts";
import { proposeAdjustment } from "../../services/adjustments.ts";
import { populate, USERS } from "../support/api-helpers.ts";
import { cliProcess, runCli } from "../support/cli-run.ts";
import { createPgDatabase, SECRET, tempDir } from "../support/helpers.ts";
import { TestSmtp } from "../support/smtp.ts";

describe("mails sent by real processes on one PostgreSQL database", () => {
  const smtp = new TestSmtp();
  let databaseUrl = "";
  let db: Db;
  let day = 0;
  const env = () => ({
    DATA_DIR: tempDir(),
    DATABASE_URL: databaseUrl,
    PSEUDONYMISATION_SECRET: SECRET,
    SMTP_URL: smtp.url,
    PUBLIC_URL: "https://cibles.test",
  });
  /** `n` proposals by the AMOA: `n` immediate mails to the region's ARS. */
  const propose = async (n: number) => {
    for (let i = 0; i < n; i++) {
      day++;
      const d = `2025-0${1 + Math.floor(day / 28)}-${String(1 + (day % 28)).padStart(2, "0")}`;
      await proposeAdjustment(
        db,
        {
          finess: "340000017",
          indicateur: "dmp",
          nombre: 1,
          categorie: "anonymat",
          justification: "personne accueillie sous anonymat",
          date_debut: d,
          date_fin: d,
        },
        USERS.amoa?.email as string,
      );
    }
  };
  const outbox = () =>
    db.query<{ message_id: string; state: string }>(
      "select message_id, state from mail_outbox order by mail_id",
    );

  beforeAll(async () => {
    await smtp.start();
    databaseUrl = await createPgDatabase();
    db = await openDb({ databaseUrl });
    await populate(db);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await smtp.stop();
  });

  it("two senders at once: each mail once", async () => {
    await propose(12);
    const [a, b] = await Promise.all([
      runCli(["notifications", "send", "--once", "--json"], env()),
      runCli(["notifications", "send", "--once", "--json"], env()),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const mails = await outbox();
    expect(mails.filter((m) => m.message_id).length).toBeGreaterThanOrEqual(12);
    expect(mails.every((m) => m.state === "sent")).toBe(true);
    const received = smtp.received.map((r) => r.parsed.messageId);
    // Every mail of the outbox arrived, and each once.
    expect([...received].sort()).toEqual(mails.map((m) => m.message_id).sort());
    expect(new Set(received).size).toBe(received.length);
    const sent = (JSON.parse(a.stdout).sent as number) + (JSON.parse(b.stdout).sent as number);
    expect(sent).toBe(received.length);
  }, 120_000);

  it("a sender killed between the SMTP server's acceptance and its own mark: nothing lost, the repeat under the same Message-ID", async () => {
    const already = smtp.received.length;
    await propose(3);
    let release: () => void = () => {};
    smtp.hold = new Promise<void>((r) => {
      release = r;
    });
    const child = cliProcess(["notifications", "send", "--once"], env());
    const exited = new Promise((r) => child.once("exit", r));
    // The first mail's data has arrived: the server is about to answer 250; the sender dies.
    await new Promise<void>((r) => {
      smtp.onData = () => r();
    });
    child.kill("SIGKILL");
    await exited;
    smtp.onData = null;
    release();
    smtp.hold = null;
    await new Promise((r) => setTimeout(r, 200));
    // The killed sender's claim runs out (its lease, made to end now rather than in 5 minutes).
    await db.query("update mail_outbox set leased_until = now() where state = 'pending'");
    const again = await runCli(["notifications", "send", "--once"], env());
    expect(again.code, again.stderr).toBe(0);
    const mails = await outbox();
    expect(mails.every((m) => m.state === "sent")).toBe(true);
    const received = smtp.received.slice(already).map((r) => r.parsed.messageId as string);
    const latest = mails.slice(-3).map((m) => m.message_id);
    // Nothing lost: each of the three arrived.
    for (const id of latest) expect(received).toContain(id);
    // Nothing twice but the one the killed sender had handed over, under its same Message-ID.
    const counts = new Map<string, number>();
    for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
    const repeated = [...counts].filter(([, n]) => n > 1);
    expect(repeated.length).toBeLessThanOrEqual(1);
    expect(received.length).toBe(3 + repeated.length);
  }, 120_000);
});
