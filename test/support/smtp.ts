/**
 * A real SMTP server on 127.0.0.1 for the tests (the `smtp-server` package as the receiving peer):
 * every message it accepts is kept raw and parsed back with `mailparser`. It can be stopped and
 * started again on the same port (an SMTP server down, then back), and told to hold a message
 * before answering (a sender killed between the server's acceptance and its own mark).
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface Received {
  raw: string;
  parsed: ParsedMail;
  to: string[];
}

export class TestSmtp {
  readonly received: Received[] = [];
  private server: SMTPServer | null = null;
  port = 0;
  /** when set, each message waits for it before the server answers 250 */
  hold: Promise<void> | null = null;
  /** called when a message's data has arrived, before it is accepted */
  onData: (() => void) | null = null;

  async start(port = this.port): Promise<number> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", async () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          this.onData?.();
          if (this.hold) await this.hold;
          this.received.push({
            raw,
            parsed: await simpleParser(raw),
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** The messages sent to this address. */
  to(address: string): Received[] {
    return this.received.filter((r) => r.to.includes(address));
  }
}
