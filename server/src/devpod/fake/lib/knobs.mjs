// Reads the FAKE_DEVPOD_* environment knobs (documented at the top of devpod.mjs and in README.md).

const integer = (text, fallback) => {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
};

const truthy = (text) => ["1", "true", "yes", "on"].includes(String(text ?? "").toLowerCase());

export function readKnobs(env) {
  return {
    delayMs: integer(env.FAKE_DEVPOD_DELAY_MS, 0),
    upLines: integer(env.FAKE_DEVPOD_UP_LINES, 0),
    fail: parseStepSpecs(env.FAKE_DEVPOD_FAIL),
    failTimes: integer(env.FAKE_DEVPOD_FAIL_TIMES, Number.POSITIVE_INFINITY),
    hang: parseStepSpecs(env.FAKE_DEVPOD_HANG),
    deleteNoop: truthy(env.FAKE_DEVPOD_DELETE_NOOP),
    ignoreSignals: truthy(env.FAKE_DEVPOD_IGNORE_SIGNALS),
    cancelDelayMs: integer(env.FAKE_DEVPOD_CANCEL_DELAY_MS, 0),
    requiredOptions: parseRequiredOptions(env.FAKE_DEVPOD_REQUIRED_OPTIONS),
    lockPollMs: integer(env.FAKE_DEVPOD_LOCK_POLL_MS, 1000),
    lockLogMs: integer(env.FAKE_DEVPOD_LOCK_LOG_MS, 5000),
    lockTimeoutMs: integer(env.FAKE_DEVPOD_LOCK_TIMEOUT_MS, 300_000),
    recordPath: env.FAKE_DEVPOD_RECORD ?? "",
    sleepScale: Number.parseFloat(env.FAKE_DEVPOD_SLEEP_SCALE ?? "") || 1,
  };
}

/** "up:build,stop" -> [{ command: "up", step: "build", raw }, { command: "stop", step: null, raw }] */
function parseStepSpecs(text) {
  return String(text ?? "")
    .split(",")
    .map((raw) => raw.trim())
    .filter(Boolean)
    .map((raw) => {
      const [command, step] = raw.split(":");
      return { command, step: step || null, raw };
    });
}

/** A spec without a step matches the first step the command reaches. */
export function findStepSpec(specs, command, step) {
  return specs.find((spec) => spec.command === command && (spec.step === null || spec.step === step)) ?? null;
}

/** "aws:AWS_REGION,AWS_INSTANCE_TYPE;ssh:HOST" -> { aws: [...], ssh: ["HOST"] } */
function parseRequiredOptions(text) {
  const result = {};
  for (const entry of String(text ?? "").split(";")) {
    const [provider, names] = entry.split(":");
    if (!provider?.trim() || !names) continue;
    result[provider.trim()] = names
      .split(",")
      .map((name) => name.trim().toUpperCase())
      .filter(Boolean);
  }
  return result;
}
