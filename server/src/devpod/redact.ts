// Secrets reach DevPod as arguments and come back in its output (git echoes the clone URL,
// providers echo their failing requests), so every line is scrubbed before anyone sees it.

export type Redact = (text: string) => string;

export const REDACTED = "***";

// Credentials in any URL, known or not: scheme://userinfo@ -> scheme://***@. The userinfo may not
// cross a slash or whitespace, so it stops at the host.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/]+@/gi;

/** A function replacing each of `secrets` (empty ones ignored) and URL credentials with `***`. */
export function createRedactor(secrets: Iterable<string>): Redact {
  // Longest first, so a secret containing another is replaced whole.
  const literals = [...new Set(secrets)]
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp);
  const secretPattern = literals.length > 0 ? new RegExp(literals.join("|"), "g") : null;
  return (text) => {
    const withoutSecrets = secretPattern ? text.replace(secretPattern, REDACTED) : text;
    return withoutSecrets.replace(URL_USERINFO, `$1${REDACTED}@`);
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
