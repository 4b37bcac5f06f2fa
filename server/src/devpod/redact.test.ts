import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRedactor, REDACTED } from "./redact.js";

/** What redaction meant when it was two regular expressions: the scanners must agree with it. */
function regexRedactor(secrets: string[]) {
  const literals = [...new Set(secrets)]
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length)
    .map((text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const secretPattern = literals.length > 0 ? new RegExp(literals.join("|"), "g") : null;
  return (text: string) =>
    (secretPattern ? text.replace(secretPattern, REDACTED) : text).replace(
      /([a-z][a-z0-9+.-]*:\/\/)[^\s/]+@/gi,
      `$1${REDACTED}@`,
    );
}

// Characters that matter to either scan, and a few that do not.
const ALPHABET = ["a", "Z", "x", "1", ":", "/", "@", " ", "\n", "\u00a0", "+", ".", "-", "*", "é", "s"];
const text = fc
  .array(fc.constantFrom(...ALPHABET, "://", "https://", "s3", "s3cret"), { maxLength: 40 })
  .map((parts) => parts.join(""));
const secret = fc
  .array(fc.constantFrom(...ALPHABET), { minLength: 0, maxLength: 4 })
  .map((parts) => parts.join(""));

describe("redaction", () => {
  it("replaces what the regular expressions replaced, on any text", () => {
    fc.assert(
      fc.property(fc.array(secret, { maxLength: 3 }), text, (secrets, line) => {
        expect(createRedactor(secrets)(line)).toBe(regexRedactor(secrets)(line));
      }),
      { numRuns: 5000 },
    );
  });

  it("handles the cases the scanners are careful about", () => {
    const redact = createRedactor(["tok", "token", ""]);
    expect(redact("a token b tok c")).toBe("a *** b *** c");
    expect(redact("x://y://u:p@h/p")).toBe("x://y://***@h/p");
    expect(redact("HTTPS://u@v@host/x @ y")).toBe("HTTPS://***@host/x @ y");
    expect(redact("1://u@h 9a://u@h")).toBe("1://u@h 9a://***@h");
    expect(redact("s://@h")).toBe("s://@h");
    expect(redact("git@github.com:acme/app.git stays")).toBe("git@github.com:acme/app.git stays");
  });

  // A build prints lines of megabytes. A backtracking expression took about 45 minutes for one
  // 2 MB line of letters; the scanners take milliseconds. The deadline is two orders of magnitude
  // above what a loaded machine needs (node and tsx starting included), so it cannot flake, and
  // the child is killed if it is missed, so the old behaviour fails instead of hanging the suite.
  it("redacts 2 MB pathological lines in linear time", async () => {
    const script = `
      const { createRedactor } = await import(${JSON.stringify(fileURLToPath(new URL("./redact.ts", import.meta.url)))});
      const redact = createRedactor(["s3cret", "ghp_token"]);
      const size = 2 * 1024 * 1024;
      const lines = [
        "a".repeat(size),
        "@:".repeat(size / 2),
        "https://".repeat(size / 8),
        "https://a:".repeat(size / 10),
        "a".repeat(size / 2) + "://" + "b".repeat(size / 2),
        "a".repeat(size / 2) + "://" + "@".repeat(size / 2),
        "s3cre".repeat(size / 5),
        "x://u@".repeat(size / 6),
      ];
      let out = 0;
      for (const line of lines) out += redact(line).length;
      process.stdout.write("done " + out);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once("close", (c, s) => resolve([c, s])),
    );
    clearTimeout(deadline);
    expect(signal, "killed at the deadline: redaction is not linear").toBeNull();
    expect(code, output).toBe(0);
    expect(output).toMatch(/^done \d+$/);
  }, 90_000);
});
