import { describe, expect, it } from "vitest";
import { runProcess } from "./process.js";

/** Runs `node -e script` through runProcess, collecting the lines it reads. */
async function linesOf(script: string, maxLineChars?: number) {
  const lines: { line: string; droppedBytes: number }[] = [];
  const outcome = await runProcess({
    bin: process.execPath,
    args: ["-e", script],
    env: { PATH: process.env.PATH },
    timeoutMs: 60_000,
    killGraceMs: 1000,
    maxLineChars,
    onLine: (line, droppedBytes) => lines.push({ line, droppedBytes }),
  });
  expect(outcome.exitCode).toBe(0);
  return lines;
}

describe("reading a process's output", () => {
  it("holds at most maxLineChars of a line without end, and counts the rest", async () => {
    // 64 MiB without a newline, written in 1 MiB pieces; only the first 1 MiB may be held.
    const lines = await linesOf(
      `const piece = "x".repeat(1 << 20);
       let n = 0;
       const next = () => { while (n < 64) { n++; if (!process.stdout.write(piece)) return process.stdout.once("drain", next); } };
       next();`,
      1 << 20,
    );

    expect(lines).toHaveLength(1);
    expect(lines[0]?.line.length).toBe(1 << 20);
    expect(lines[0]?.droppedBytes).toBe(63 * (1 << 20));
  }, 90_000);

  it("splits lines as readline does and starts counting afresh after a long one", async () => {
    const lines = await linesOf(
      `process.stdout.write("one\\r\\ntwo\\rthree\\n\\nlong-" + "é".repeat(100) + "\\nshort\\nlast");`,
      10,
    );

    expect(lines).toEqual([
      { line: "one", droppedBytes: 0 },
      { line: "two", droppedBytes: 0 },
      { line: "three", droppedBytes: 0 },
      { line: "", droppedBytes: 0 },
      { line: "long-ééééé", droppedBytes: 190 },
      { line: "short", droppedBytes: 0 },
      { line: "last", droppedBytes: 0 },
    ]);
  });

  it("joins a line that arrives in pieces, and a \\r\\n split between them", async () => {
    const lines = await linesOf(
      `process.stdout.write("ab");
       setTimeout(() => process.stdout.write("c\\r"), 50);
       setTimeout(() => process.stdout.write("\\nd\\n"), 100);`,
    );

    expect(lines.map((l) => l.line)).toEqual(["abc", "d"]);
  });
});
