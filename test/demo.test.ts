import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

describe("npm run demo", () => {
  it("shows a workspace go from pending to running through the SDK, and exits 0, with no services configured", async () => {
    // Only what a fresh machine has: no DATABASE_URL, no AMQP_URL, no secrets.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const child = spawn("npm", ["run", "demo"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(output).toContain("pending → starting");
    expect(output).toContain("starting → running");
    expect(output).toMatch(/\[log\] {5}info {4}Clone repository/);
    expect(output).toMatch(/✓ workspace \d+ is running/);
    expect(code).toBe(0);
  }, 150_000);
});
