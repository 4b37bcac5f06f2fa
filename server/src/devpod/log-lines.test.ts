import { describe, expect, it } from "vitest";
import { cutText, parseLogLine } from "./log-lines.js";
import { createRedactor } from "./redact.js";

const noRedaction = (text: string) => text;

describe("log line length", () => {
  it("keeps the head of a 2 MB line and says how many bytes were cut", () => {
    const message = "y".repeat(2_000_000);
    const raw = JSON.stringify({ time: "2026-01-01T00:00:00Z", message, level: "warn" });

    const line = parseLogLine(raw, noRedaction, { maxBytes: 1024 });

    expect(line.level).toBe("warning");
    expect(line.text).toBe(`${"y".repeat(1024)}… [1,998,976 more bytes cut]`);
  });

  it("leaves a line that fits as it is", () => {
    expect(cutText("é".repeat(512), 1024)).toBe("é".repeat(512));
    expect(parseLogLine("short line", noRedaction, { maxBytes: 10 }).text).toBe("short line");
  });

  it("never splits a character, and counts bytes, not characters", () => {
    // "é" is 2 bytes, "😀" 4 (two UTF-16 units): the head ends before a character that does not fit.
    expect(cutText(`${"é".repeat(600)}`, 1023)).toBe(`${"é".repeat(511)}… [178 more bytes cut]`);
    expect(cutText(`a${"😀".repeat(300)}`, 1024)).toBe(`a${"😀".repeat(255)}… [180 more bytes cut]`);
    expect(cutText(`${"😀".repeat(300)}`, 6)).toBe("😀… [1,196 more bytes cut]");
  });

  it("counts what the reader dropped before the line reached the parser", () => {
    expect(parseLogLine("head", noRedaction, { maxBytes: 1024, droppedBytes: 5000 }).text).toBe(
      "head… [5,000 more bytes cut]",
    );
  });

  it("redacts the whole line before cutting, so no part of a secret is kept", () => {
    const redact = createRedactor(["SECRET-TOKEN"]);
    const raw = `${"z".repeat(10)}SECRET-TOKEN and https://user:pw${"w".repeat(50)}@host/${"v".repeat(100)}`;

    const text = parseLogLine(raw, redact, { maxBytes: 24 }).text;

    expect(text).toBe("zzzzzzzzzz*** and https:… [111 more bytes cut]");
    expect(parseLogLine(raw, redact, { maxBytes: 40 }).text).toMatch(
      /^z{10}\*\*\* and https:\/\/\*\*\*@host/,
    );
  });
});
