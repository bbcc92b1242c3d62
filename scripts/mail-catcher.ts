/**
 * Watch the demo's mails locally: an SMTP server on 127.0.0.1 (the `smtp-server` package, a
 * development dependency) that prints every mail it receives — sender, recipients, subject and
 * text, links included — and keeps nothing. Run `npm run mails:demo`, then start the product
 * with `SMTP_URL=smtp://127.0.0.1:2525`. Port: MAIL_CATCHER_PORT (default 2525).
 */
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

const port = Number(process.env.MAIL_CATCHER_PORT ?? 2525);
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((m) => {
        process.stdout.write(
          [
            "─".repeat(72),
            `De : ${m.from?.text ?? ""}`,
            `À : ${session.envelope.rcptTo.map((r) => r.address).join(", ")}`,
            `Objet : ${m.subject ?? ""}`,
            `Message-ID : ${m.messageId ?? ""}`,
            "",
            (m.text ?? "").trim(),
            "",
          ].join("\n"),
        );
        callback();
      })
      .catch(callback);
  },
});
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(
    `Courriels de démonstration : serveur SMTP sur 127.0.0.1:${port}. Lancez le produit avec SMTP_URL=smtp://127.0.0.1:${port}\n`,
  );
});
