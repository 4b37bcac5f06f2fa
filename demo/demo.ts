/**
 * `npm run demo`: the whole product on one machine, end to end. Starts the API and a worker on the
 * embedded defaults (PGlite, in-process bus) with the project's fake `devpod`, mints a development
 * token, sets up a provider and a repository, then creates a workspace through the client SDK and
 * prints its live status and build log until it is running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@cluster-code/cli";
import { createClusterCodeClient } from "@cluster-code/client-sdk";
import { createLogger, loadConfig, startProcess } from "@cluster-code/server";
import WebSocket from "ws";

const TIMEOUT_MS = 120_000;
const dataDir = mkdtempSync(join(tmpdir(), "cluster-code-demo-"));
const fakeDevpod = fileURLToPath(new URL("../server/src/devpod/fake/devpod.mjs", import.meta.url));
const env = { DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", DEVPOD_BIN: fakeDevpod, LOG_LEVEL: "warn" };
const say = (text: string) => process.stdout.write(`${text}\n`);

async function cli(...argv: string[]): Promise<string> {
  let out = "";
  const code = await runCli(argv, {
    env,
    stdout: (t) => (out += t),
    stderr: () => {},
    db: running.services.dbHandle,
  });
  if (code !== 0) throw new Error(`cluster-code ${argv.join(" ")} exited ${code}`);
  return out.trim();
}

const { config } = loadConfig(env);
const running = await startProcess(config, createLogger(config.logLevel), { api: true, worker: true });
const url = `http://127.0.0.1:${running.port}`;
say(`▶ API and worker on ${url} (data in ${dataDir})`);

const timer = setTimeout(() => {
  say("✗ the workspace did not come up in time");
  process.exit(1);
}, TIMEOUT_MS);

try {
  say(`▶ ${await cli("import-machine-configs")}`);
  const token = await cli("token:mint", "--user", "1", "--org", "1", "--admin");
  say("▶ minted a development main token for user 1 (an administrator of organization 1)");

  const client = createClusterCodeClient({
    url,
    getMainToken: () => token,
    // Node 20 has no global WebSocket: `ws` stands in.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  const { api } = client;
  const [machine] = (await api.machineConfig.list.query({ q: "t3.medium" })).items;
  const provider = await api.provider.create.mutate({
    name: "docker",
    title: "Local Docker",
    source: "docker",
  });
  const repository = await api.repository.create.mutate({
    title: "Example app",
    url: "https://github.com/loft-sh/devpod-example-simple.git",
    machineConfigId: machine?.id,
  });
  say(`▶ provider "${provider.name}", repository "${repository.title}", machine ${machine?.instanceType}`);

  const workspace = await api.workspace.create.mutate({
    title: "Demo workspace",
    repositoryId: repository.id,
    providerId: provider.id,
    tags: ["demo"],
  });
  say(`▶ created workspace ${workspace.id} (${workspace.devpodId}); streaming its events:\n`);

  await new Promise<void>((resolve, reject) => {
    const stop = client.watchWorkspace(
      workspace.id,
      {
        workspace_created: (event) => say(`  [created] ${event.data.workspace_id}`),
        workspace_status: (event) => {
          const { previous_status, status, message } = event.data;
          say(`  [status]  ${previous_status ?? "-"} → ${status}${message ? `  (${message})` : ""}`);
          if (status === "running") {
            stop();
            resolve();
          }
          if (status === "failed") reject(new Error(message ?? "the workspace failed"));
        },
        workspace_log: (event) => say(`  [log]     ${event.data.level.padEnd(7)} ${event.data.text}`),
        onError: reject,
      },
      { lastEventId: 0 },
    );
  });

  const final = await api.workspace.get.query({ id: workspace.id });
  say(`\n✓ workspace ${final.id} is ${final.status}`);
  await client.close();
} finally {
  clearTimeout(timer);
  await running.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
