// Byte-level details of Go's encoding/json and time formatting, so the fake's output parses and
// looks exactly like devpod's (drivers that only ever saw Node's JSON.stringify miss these).

/** Go's json.Marshal escapes <, > and & (and U+2028/9) inside strings; JSON.stringify does not. */
export function goJson(value, indent) {
  const text = indent ? JSON.stringify(value, null, indent) : JSON.stringify(value);
  return text.replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Go marshals maps with sorted keys; objects built from user input must be sorted to match. */
export function sortedKeys(object) {
  return Object.fromEntries(Object.entries(object ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Drops empty values like Go's `omitempty` (empty string, false, empty map, undefined); fields
 * named in `always` lack the tag in Go and are kept even when empty.
 */
export function omitEmpty(object, always = []) {
  return Object.fromEntries(
    Object.entries(object).filter(([key, value]) => always.includes(key) || !isEmpty(value)),
  );
}

function isEmpty(value) {
  if (value === undefined || value === null || value === "" || value === false) return true;
  return typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}

const pad = (number, width = 2) => String(number).padStart(width, "0");

// Wall-clock nanoseconds from a monotonic clock, so consecutive log times never go backwards.
const START_EPOCH_NS = BigInt(Date.now()) * 1_000_000n;
const START_MONOTONIC_NS = process.hrtime.bigint();

/** time.Now() as json.Marshal writes it: RFC3339Nano in local time, trailing zeros trimmed. */
export function goTimestamp() {
  const epochNs = START_EPOCH_NS + (process.hrtime.bigint() - START_MONOTONIC_NS);
  const date = new Date(Number(epochNs / 1_000_000n));
  const fraction = pad(Number(epochNs % 1_000_000_000n), 9).replace(/0+$/, "");
  const local =
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${local}${fraction ? `.${fraction}` : ""}${zoneSuffix(-date.getTimezoneOffset())}`;
}

function zoneSuffix(offsetMinutes) {
  if (offsetMinutes === 0) return "Z";
  const sign = offsetMinutes > 0 ? "+" : "-";
  const absolute = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`;
}

/** devpod's types.Time: RFC3339 in UTC with whole seconds. */
export function rfc3339Seconds(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function unixSeconds(timestamp) {
  const millis = Date.parse(timestamp ?? "");
  return Number.isNaN(millis) ? 0 : Math.floor(millis / 1000);
}

/** strconv.ParseBool. */
export function parseGoBool(text) {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  return undefined;
}

const DURATION_UNITS = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration, returning milliseconds; throws Go's message on bad input. */
export function parseGoDuration(text) {
  const invalid = new Error(`time: invalid duration "${text}"`);
  if (text === "0") return 0;
  const body = text.replace(/^[+-]/, "");
  if (!body) throw invalid;
  let total = 0;
  const pattern = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;
  let index = 0;
  while (index < body.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(body);
    if (!match || match[1] === "" || match[1] === ".") {
      if (/^\d+(\.\d*)?$/.test(body.slice(index)))
        throw new Error(`time: missing unit in duration "${text}"`);
      throw invalid;
    }
    total += Number(match[1]) * DURATION_UNITS[match[2]];
    index = pattern.lastIndex;
  }
  return text.startsWith("-") ? -total : total;
}
