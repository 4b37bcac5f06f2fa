import { runCli } from "./main.js";

const stopSignal = new Promise<void>((resolve) => {
  process.once("SIGINT", resolve);
  process.once("SIGTERM", resolve);
});

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopSignal,
}).then(
  (code) => {
    process.exitCode = code;
    // Long-lived handles (pools, sockets) are closed by the commands; nothing should keep us alive.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
