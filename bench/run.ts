// `npm run bench [-- --smoke] [--json FILE] [scenario...]`: every scenario (or the ones named),
// one after another, each against a real server of its own and a baseline measured in the same
// run, then one table. See BENCHMARKS.md.

import { connections } from "./connections.js";
import { fanout } from "./fanout.js";
import { http } from "./http.js";
import { ingest } from "./ingest.js";
import { longLines } from "./long-lines.js";
import { replay } from "./replay.js";
import { runScenarios } from "./support/runner.js";

process.exitCode = await runScenarios(
  [fanout, connections, http, ingest, longLines, replay],
  process.argv.slice(2),
);
