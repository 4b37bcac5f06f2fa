// Where the recordings of the real DevPod v0.6.15 live: `recordings/` beside this file (a copy of
// the corpus the fake and the driver follow; its README explains the format and placeholders), or
// DEVPOD_TRANSCRIPTS to replay another corpus.

import { fileURLToPath } from "node:url";

export function recordingsDirectory(): string {
  return process.env.DEVPOD_TRANSCRIPTS || fileURLToPath(new URL("./recordings/", import.meta.url));
}
