// A port of loft-sh/log's StreamLogger: the three formats, level filtering and the stream split
// (debug/info to stdout, warning and worse to stderr) are what the driver parses.

import { goJson, goTimestamp } from "./go-format.mjs";

// logrus levels: a message prints when its number is <= the logger's level.
const LEVELS = { panic: 0, fatal: 1, error: 2, warning: 3, info: 4, debug: 5 };

// The plain format's tag and mgutz/ansi colour code per log function ("done" logs at info).
const KINDS = {
  debug: { level: "debug", tag: "debug ", color: "1;32" },
  info: { level: "info", tag: "info ", color: "1;36" },
  warning: { level: "warning", tag: "warn ", color: "1;31" },
  error: { level: "error", tag: "error ", color: "1;31" },
  fatal: { level: "fatal", tag: "fatal ", color: "1;31" },
  done: { level: "info", tag: "done ", color: "1;32" },
};

// Bulk output is written in chunks so 100k lines cost a few writes, not 100k syscalls.
const BULK_CHUNK_LINES = 2000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const ANSI_PATTERN = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

const colored = (text, code) => `\x1b[0;${code}m${text}\x1b[0m`;

export const LOG_FORMATS = ["plain", "raw", "json"];

export class Logger {
  constructor({ format = "plain", level = "info", errorStreamOnly = false } = {}) {
    this.format = format;
    this.level = level;
    this.errorStreamOnly = errorStreamOnly;
  }

  /** Like StreamLogger.ErrorStreamOnly(): every line goes to stderr (used by `status`). */
  toErrorStream() {
    return new Logger({ format: this.format, level: this.level, errorStreamOnly: true });
  }

  debug(message) {
    this.write("debug", message);
  }

  info(message) {
    this.write("info", message);
  }

  warn(message) {
    this.write("warning", message);
  }

  error(message) {
    this.write("error", message);
  }

  fatal(message) {
    this.write("fatal", message);
  }

  done(message) {
    this.write("done", message);
  }

  /** StreamLogger.JSON: a raw JSON object line, printed only in the json format. */
  json(value, kind = "info") {
    const { level } = KINDS[kind];
    if (this.format !== "json" || !this.enabled(level)) return;
    this.streamFor(level).write(`${goJson(value)}\n`);
  }

  /** StreamLogger.WriteString: text as is (a table), or one json line holding all of it. */
  writeString(text, kind = "info") {
    const { level } = KINDS[kind];
    if (!this.enabled(level)) return;
    const rendered = this.format === "json" ? renderJsonRows(text, level) : text;
    if (rendered) this.streamFor(level).write(rendered);
  }

  write(kind, message) {
    const rendered = this.render(kind, message);
    if (rendered) this.streamFor(KINDS[kind].level).write(rendered);
  }

  /** Many lines of one kind, chunked and honouring back-pressure. */
  async bulk(kind, messages) {
    const stream = this.streamFor(KINDS[kind].level);
    for (let start = 0; start < messages.length; start += BULK_CHUNK_LINES) {
      const chunk = messages
        .slice(start, start + BULK_CHUNK_LINES)
        .map((message) => this.render(kind, message) ?? "")
        .join("");
      if (chunk && !stream.write(chunk)) await new Promise((resolve) => stream.once("drain", resolve));
    }
  }

  enabled(level) {
    return LEVELS[level] <= LEVELS[this.level];
  }

  streamFor(level) {
    return this.errorStreamOnly || LEVELS[level] <= LEVELS.warning ? process.stderr : process.stdout;
  }

  render(kind, message) {
    const { level, tag, color } = KINDS[kind];
    if (!this.enabled(level)) return null;
    const line = `${message}\n`; // devpod logs via Infof & co., which append the newline
    if (this.format === "raw") return line;
    if (this.format === "json") return renderJson(line, level);
    const now = new Date();
    const clock = [now.getHours(), now.getMinutes(), now.getSeconds()]
      .map((part) => String(part).padStart(2, "0"))
      .join(":");
    return `${colored(`${clock} `, "1;37")}${colored(tag, color)}${line}`;
  }
}

/** A table printed through the logger: one line per row, and an empty row has no message key. */
function renderJsonRows(text, level) {
  const rows = text.split("\n");
  if (rows.at(-1) === "") rows.pop();
  return rows
    .map((row) => {
      const message = row.trim().replace(ANSI_PATTERN, "");
      const entry = message ? { time: goTimestamp(), message, level } : { time: goTimestamp(), level };
      return `${goJson(entry)}\n`;
    })
    .join("");
}

function renderJson(line, level) {
  const message = line.trim().replace(ANSI_PATTERN, "");
  if (!message) return null;
  return `${goJson({ time: goTimestamp(), message, level })}\n`;
}
