import pino, { type Logger } from "pino";

/**
 * Structured JSON logs. Header and token fields are censored wherever they appear, as a second
 * line of defence: the code never logs tokens on purpose.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "cluster-code" },
      redact: {
        paths: [
          "req.headers.authorization",
          "headers.authorization",
          "token",
          "*.token",
          "secret",
          "*.secret",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
