/** Helpers shared by the benchmarks. */
import { cpus, totalmem } from "node:os";
import pg from "pg";
import { startPgServer } from "../test/support/pg-server.ts";

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export async function pgUrl(): Promise<{ url: string; stop: () => void }> {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: () => {} };
  const s = await startPgServer({ durable: true });
  if ("error" in s) throw new Error(s.error);
  return s;
}

/** A new database `name` on the server (dropped first if it exists): empty, or a copy of `template`. */
export async function freshPgDatabase(admin: string, name: string, template?: string): Promise<string> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`drop database if exists ${name}`);
  await c.query(`create database ${name}${template ? ` template ${template}` : ""}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}
