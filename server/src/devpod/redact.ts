// Secrets reach DevPod as arguments and come back in its output (git echoes the clone URL,
// providers echo their failing requests), so every line is scrubbed before anyone sees it.
//
// Both scans run in time linear in the line: DevPod prints lines of megabytes (minified bundles,
// base64 blobs), and a backtracking regular expression over such a line keeps the process busy
// for minutes, answering nothing. No regular expression here sees the line.

export type Redact = (text: string) => string;

export const REDACTED = "***";

/**
 * A function replacing each of `secrets` (empty ones ignored) and URL credentials with `***`.
 * Secrets: the leftmost occurrence of any of them first, the longest one on a tie (so a secret
 * containing another is replaced whole). URL credentials in any URL, known scheme or not:
 * `scheme://userinfo@` becomes `scheme://***@`, the userinfo stopping at the host (it does not
 * cross a slash or whitespace) and reaching the last `@` before it.
 */
export function createRedactor(secrets: Iterable<string>): Redact {
  const literals = [...new Set(secrets)]
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length);
  return (text) => redactUrlCredentials(literals.length > 0 ? replaceLiterals(text, literals) : text);
}

/**
 * Every occurrence of `literals` (longest first) replaced by `***`, scanning left to right. Each
 * literal's next occurrence is looked up with `indexOf` only when the scan has passed the last one
 * found, so each literal's searches cover disjoint stretches of the text: linear in the text.
 */
function replaceLiterals(text: string, literals: readonly string[]): string {
  const next = literals.map((literal) => text.indexOf(literal));
  let out = "";
  let cursor = 0;
  for (;;) {
    let best = -1;
    for (let i = 0; i < literals.length; i++) {
      let at = next[i] as number;
      if (at !== -1 && at < cursor) {
        at = text.indexOf(literals[i] as string, cursor);
        next[i] = at;
      }
      // Strictly smaller: on a tie the earlier (longer) literal stays.
      if (at !== -1 && (best === -1 || at < (next[best] as number))) best = i;
    }
    if (best === -1) break;
    const at = next[best] as number;
    out += text.slice(cursor, at) + REDACTED;
    cursor = at + (literals[best] as string).length;
  }
  return cursor === 0 ? text : out + text.slice(cursor);
}

const SEPARATOR = "://";

/**
 * `scheme://userinfo@` -> `scheme://***@`, where the scheme is `[a-z][a-z0-9+.-]*` (any case).
 * Linear: the backward look at a scheme stops at the previous `://` (a slash is no scheme
 * character), the forward look at a userinfo stops at the next slash, so no character is looked
 * at more than a few times.
 */
function redactUrlCredentials(text: string): string {
  let out = "";
  let copied = 0; // text before this index is in `out` already
  let from = 0;
  for (;;) {
    const separator = text.indexOf(SEPARATOR, from);
    if (separator === -1) break;
    const userinfo = separator + SEPARATOR.length;
    from = userinfo;
    if (!hasScheme(text, separator, copied)) continue;
    // The userinfo runs to the last `@` before a slash, whitespace or the end.
    let at = -1;
    let end = userinfo;
    for (; end < text.length; end++) {
      const code = text.charCodeAt(end);
      if (code === 0x2f || isWhitespace(code)) break;
      if (code === 0x40) at = end;
    }
    // The slash that stopped it may be the start of the next `://`'s slashes.
    from = Math.max(userinfo, end - 1);
    if (at <= userinfo) continue; // no `@`, or nothing before it
    out += text.slice(copied, userinfo) + REDACTED;
    copied = at;
    from = at + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Whether a scheme ends at `separator`: scheme characters back from it, one of them a letter. */
function hasScheme(text: string, separator: number, floor: number): boolean {
  let letter = false;
  for (let i = separator - 1; i >= floor; i--) {
    const code = text.charCodeAt(i);
    if (isLetter(code)) letter = true;
    else if (!isDigit(code) && code !== 0x2b && code !== 0x2e && code !== 0x2d) break;
  }
  return letter;
}

const isLetter = (code: number) => (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;

/** JavaScript's `\s`: ASCII whitespace, the Unicode space separators, line separators, BOM. */
function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
