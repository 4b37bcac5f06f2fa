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

/**
 * A JSON log line becomes its message at its level; anything else (plain-text flag errors, which
 * DevPod prints before `--log-output` applies) becomes an info line with its raw text.
 */
export function parseLogLine(raw: string, redact: Redact): DevpodLogLine {
  const entry = parseJsonEntry(raw);
  const text = typeof entry?.message === "string" ? entry.message : raw;
  return {
    time: typeof entry?.time === "string" ? entry.time : new Date().toISOString(),
    level: (typeof entry?.level === "string" && LEVELS[entry.level]) || "info",
    text: redact(text.replace(ANSI_SEQUENCE, "")),
  };
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
