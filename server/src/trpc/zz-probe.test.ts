import { it } from "vitest";
import { mintMainToken, startTestServer } from "../test-support/server.js";
it("probe", async () => {
  const app = await startTestServer();
  const token = await mintMainToken({ id: 1, organizationId: 1, roles: ["admin"] });
  const h = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const get = async (p: string, input: unknown) => { const r = await fetch(`${app.url}/trpc/${p}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: h }); console.log(p, JSON.stringify(input).slice(0,80), r.status, (await r.text()).slice(0, 400)); };
  const post = async (p: string, input: unknown) => { const r = await fetch(`${app.url}/trpc/${p}`, { method: "POST", headers: h, body: JSON.stringify(input) }); console.log(p, JSON.stringify(input).slice(0,80), r.status, (await r.text()).slice(0, 400)); };
  for (const p of ["machineConfig.list", "provider.list", "repository.list", "gitToken.list", "workspace.list"]) await get(p, { q: "a\u0000b" });
  await post("provider.create", { name: "x1", source: "aws", title: "a\u0000b" });
  await post("provider.create", { name: "x2", source: "aws", options: { A: "a\u0000b" } });
  await post("provider.create", { name: "x3", source: "aws", secretOptions: { A: "a\u0000b" } });
  await post("repository.create", { title: "a\u0000b", url: "https://github.com/a/b" });
  await post("repository.propose", { title: "a\u0000b", url: "https://github.com/a/b" });
  await post("gitToken.create", { title: "a\u0000b", token: "x" });
  await post("gitToken.create", { title: "t", token: "x\u0000y" });
  await post("workspace.create", { title: "a\u0000b", repositoryId: 1, providerId: 1 });
  // page huge
  await get("provider.list", { page: Number.MAX_SAFE_INTEGER, limit: 100 });
  // parse errors
  const r = await fetch(`${app.url}/trpc/provider.create`, { method: "POST", headers: h, body: "{not json" }); console.log("badjson", r.status, await r.text());
  const r2 = await fetch(`${app.url}/trpc/provider.list?input=%7Bnope`, { headers: h }); console.log("badjson get", r2.status, await r2.text());
  await app.stop();
});
