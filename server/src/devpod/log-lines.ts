// DevPod's `--log-output json` lines ({"time","message","level"}) turned into DevpodLogLine.

import type { Redact } from "./redact.js";
import type { DevpodLogLevel, DevpodLogLine } from "./types.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const ANSI_SEQUENCE = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

// logrus names, including the ones DevPod does not use today, so no line is misfiled.
const LEVELS: Record<string, DevpodLogLevel> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warn: "warning",
  warning: "warning",
  error: "error",
  fatal: "fatal",
  panic: "fatal",
};

interface JsonLogEntry {
  time?: unknown;
  level?: unknown;
  message?: unknown;
}

/** The default for `DEVPOD_LOG_LINE_MAX_BYTES`: the longest line text kept, in UTF-8 bytes. */
export const DEFAULT_LINE_MAX_BYTES = 16 * 1024;

export interface LineLimits {
  /** Text beyond this many UTF-8 bytes is cut, and the line says how much was. */
  maxBytes: number;
  /** Bytes the reader already dropped from the end of the raw line (see `process.ts`). */
  droppedBytes?: number;
}

// Lines DevPod logs at `error` although nothing failed: every successful `up` into an image
// without git logs this one (recording 04). They are shown as warnings.
const NOT_ERRORS = [/^Error configuring git credentials: git not found$/];

/**
 * A JSON log line becomes its message at its level; a JSON line without a message (an empty row
 * of a table DevPod prints through its logger) has empty text, which callers drop; anything else
 * (plain-text flag errors, which DevPod prints before `--log-output` applies) becomes an info
 * line with its raw text. The text is redacted whole, then cut to `limits.maxBytes`: cutting
 * first could leave half a secret, or a URL's credentials without the `@` that marks them, in the
 * head that is kept.
 */
export function parseLogLine(
  raw: string,
  redact: Redact,
  limits: LineLimits = { maxBytes: DEFAULT_LINE_MAX_BYTES },
): DevpodLogLine {
  const entry = parseJsonEntry(raw);
  const text = entry ? (typeof entry.message === "string" ? entry.message : "") : raw;
  const clean = redact(text.replace(ANSI_SEQUENCE, ""));
  const level = (typeof entry?.level === "string" && LEVELS[entry.level]) || "info";
  return {
    time: typeof entry?.time === "string" ? entry.time : new Date().toISOString(),
    level: level === "error" && NOT_ERRORS.some((pattern) => pattern.test(clean)) ? "warning" : level,
    text: cutText(clean, limits.maxBytes, limits.droppedBytes ?? 0),
  };
}

/**
 * `text` if it fits in `maxBytes` (UTF-8) and nothing was dropped before; else its longest head
 * that fits, never splitting a character, and `… [N more bytes cut]`.
 */
export function cutText(text: string, maxBytes: number, droppedBytes = 0): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, two units, is 4).
  if (droppedBytes === 0 && text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.byteLength(text);
  if (droppedBytes === 0 && bytes <= maxBytes) return text;
  let head = Buffer.from(text.slice(0, maxBytes));
  if (head.length > maxBytes) {
    let end = maxBytes;
    while (end > 0 && ((head[end] as number) & 0xc0) === 0x80) end--; // back to a character's first byte
    head = head.subarray(0, end);
  }
  let kept = head.toString();
  // A head ending inside a surrogate pair decodes to U+FFFD: leave that character out.
  if (kept.endsWith("\ufffd") && !text.startsWith(kept)) {
    kept = kept.slice(0, -1);
  }
  const cut = bytes - Buffer.byteLength(kept) + droppedBytes;
  return `${kept}… [${cut.toLocaleString("en-US")} more bytes cut]`;
}

function parseJsonEntry(raw: string): JsonLogEntry | null {
  if (!raw.startsWith("{")) return null; // spares plain text a throwing JSON.parse
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null ? (value as JsonLogEntry) : null;
  } catch {
    return null;
  }
}
