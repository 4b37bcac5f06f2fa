// Loaded into the real server with `--import`: answers the bench's memory and CPU requests over
// IPC, so the server's own code stays untouched and its figures are read from inside.

import { serveCalls } from "./ipc.js";
import { processFigureHandlers } from "./process-figures.js";

serveCalls(processFigureHandlers, { keepAlive: false });
