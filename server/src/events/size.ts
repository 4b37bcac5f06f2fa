// An event's size is bounded wherever it leaves the store (the outbox relay, replays), so one
// oversized row can neither be refused by the broker (RabbitMQ refuses messages over its
// max_message_size, 128 MiB by default and 16 MiB since 4.0, and every retry of the batch would
// be refused again, stopping everyone's events) nor close a reader's socket as a slow one.
// DevPod's lines are cut long before this (DEVPOD_LOG_LINE_MAX_BYTES); rows stored before that
// limit existed, or by a future writer that forgets one, are what this catches.

import { cutText } from "../devpod/log-lines.js";

/** The most an event's `data` takes as JSON, in UTF-8 bytes. */
export const MAX_EVENT_DATA_BYTES = 256 * 1024;

type Data = Record<string, unknown>;

/**
 * `data` itself when its JSON fits in `maxBytes`. Otherwise a copy whose long strings are cut
 * (`… [N more bytes cut]`) to a share of the bound; if even that does not fit (a huge structure),
 * only `workspace_id` and a `truncated` note saying how large the data was.
 */
export function boundEventData(data: Data, maxBytes = MAX_EVENT_DATA_BYTES): Data {
  if (jsonBytesAtMost(data, maxBytes) <= maxBytes) return data;
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes <= maxBytes) return data;
  // JSON may spell a character as six (`\u0000`): a share of an eighth leaves room for the rest.
  const longStrings = countLongStrings(data, 256);
  const share = Math.max(256, Math.floor(maxBytes / 8 / Math.max(1, longStrings)));
  const cut = cutStrings(data, share) as Data;
  if (Buffer.byteLength(JSON.stringify(cut)) <= maxBytes) return cut;
  return {
    workspace_id: data.workspace_id,
    truncated: `event data of ${bytes.toLocaleString("en-US")} bytes exceeds the limit of ${maxBytes.toLocaleString("en-US")} bytes`,
  };
}

/**
 * An upper bound of the value's JSON size in bytes, cheap and without building the JSON: every
 * string counted as if each unit took six bytes. Stops counting once past `limit`.
 */
function jsonBytesAtMost(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length && total <= limit) {
    const item = stack.pop();
    if (typeof item === "string") total += item.length * 6 + 2;
    else if (Array.isArray(item)) {
      total += 2 + item.length;
      for (const element of item) stack.push(element);
    } else if (item !== null && typeof item === "object") {
      total += 2;
      for (const [key, element] of Object.entries(item)) {
        total += key.length * 6 + 4;
        stack.push(element);
      }
    } else total += 24; // numbers, booleans, null
  }
  return total;
}

function countLongStrings(value: unknown, over: number): number {
  if (typeof value === "string") return value.length > over ? 1 : 0;
  if (value === null || typeof value !== "object") return 0;
  let count = 0;
  for (const element of Object.values(value)) count += countLongStrings(element, over);
  return count;
}

function cutStrings(value: unknown, maxBytes: number): unknown {
  if (typeof value === "string") return cutText(value, maxBytes);
  if (Array.isArray(value)) return value.map((element) => cutStrings(element, maxBytes));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, element]) => [key, cutStrings(element, maxBytes)]),
  );
}
