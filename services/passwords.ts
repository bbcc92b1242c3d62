/**
 * Whether a password may be set (issue 32 §3): its form (domain/accounts.ts: 12 characters at
 * least, not the e-mail address), then not a common or predictable one — zxcvbn-ts, a maintained
 * estimator whose dictionaries hold tens of thousands of common passwords, names and words, with
 * its French dictionary; a score below 3 (of 4) is refused. The dictionaries are loaded on first
 * use, not at start.
 */
import { passwordFormProblem } from "../domain/accounts.ts";
import { DomainError } from "../domain/errors.ts";

type Checker = { check(password: string, userInputs?: (string | number)[]): { score: number } };
let checker: Promise<Checker> | null = null;

async function load(): Promise<Checker> {
  const [{ ZxcvbnFactory }, common, fr] = await Promise.all([
    import("@zxcvbn-ts/core"),
    import("@zxcvbn-ts/language-common"),
    import("@zxcvbn-ts/language-fr"),
  ]);
  return new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...fr.dictionary },
    graphs: common.adjacencyGraphs,
    translations: fr.translations,
  }) as unknown as Checker;
}

/** The lowest zxcvbn score accepted (0 … 4). */
export const MIN_PASSWORD_SCORE = 3;

/** Why the password is refused, in French, or null. */
export async function passwordProblem(password: string, email: string): Promise<string | null> {
  const form = passwordFormProblem(password, email);
  if (form) return form;
  checker ??= load();
  const { score } = (await checker).check(password, [email, email.split("@")[0] ?? ""]);
  return score < MIN_PASSWORD_SCORE
    ? "mot de passe trop courant ou trop prévisible : choisissez-en un autre (une phrase de plusieurs mots, par exemple)"
    : null;
}

/** Throws a 422 naming the field `password` when the password is refused. */
export async function checkPassword(password: string, email: string): Promise<void> {
  const problem = await passwordProblem(password, email);
  if (problem)
    throw new DomainError("validation", problem, { errors: [{ field: "password", message: problem }] });
}
