/** Runs the real command line in a child process (tsx), as an operator would. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./helpers.ts";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cliProcess(args: string[], env: Record<string, string | undefined>) {
  // node itself (not the tsx wrapper, which forks): a signal reaches the importing process.
  return spawn(process.execPath, ["--import", "tsx", join(ROOT, "cli", "main.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = cliProcess(args, env);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
