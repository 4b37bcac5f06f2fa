export type { CliIo } from "./io.js";
export { runCli } from "./main.js";
