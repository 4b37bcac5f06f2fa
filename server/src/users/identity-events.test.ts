import { randomBytes } from "node:crypto";
import { users } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus/index.js";
import { createIdentityClient, type IdentityClient } from "./identity-client.js";
import { type IdentityEventConsumer, startIdentityEventConsumer } from "./identity-events.js";
import {
  type FakeIdentityService,
  identityUser,
  startFakeIdentityService,
} from "./test-support/fake-identity-service.js";

const amqpUrl = process.env.AMQP_URL;
const filePrefix = `cc-test-identity-events-${randomBytes(4).toString("hex")}`;
const busNames = { exchange: `${filePrefix}.exchange`, operationsQueue: `${filePrefix}.operations` };
const kinds = ["created", "updated", "deleted"] as const;
type Kind = (typeof kinds)[number];
const MASTER_TOKEN = "identity-master-token-do-not-log";

const logLines: { msg: string; userId?: number; outcome?: string; err?: { message: string } }[] = [];
const log = pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line)) });

let testDb: TestDatabase;
let bus: Bus;
let fake: FakeIdentityService;
let identity: IdentityClient;
/** A raw channel to look into RabbitMQ's queues (dead letters) and clean them up. */
let broker: { connection: ChannelModel; channel: Channel } | undefined;

beforeAll(async () => {
  testDb = await createTestDatabase();
  bus = await createBus(amqpUrl, busNames, log);
  fake = await startFakeIdentityService({ masterToken: MASTER_TOKEN });
  identity = createIdentityClient({ apiUrl: fake.url, masterToken: MASTER_TOKEN, maxAttempts: 1 });
  if (amqpUrl) {
    const connection = await amqplib.connect(amqpUrl);
    broker = { connection, channel: await connection.createChannel() };
  }
});

afterAll(async () => {
  await bus?.close();
  if (broker) {
    await broker.channel.deleteQueue(busNames.operationsQueue);
    await broker.channel.deleteExchange(busNames.exchange);
    await broker.connection.close();
  }
  await fake?.close();
  await testDb?.drop();
});

beforeEach(async () => {
  await db().delete(users);
  fake.users.length = 0;
  fake.requests.length = 0;
  logLines.length = 0;
});

const consumers: { consumer: IdentityEventConsumer; queuePrefix: string }[] = [];
afterEach(async () => {
  for (const { consumer, queuePrefix } of consumers.splice(0)) {
    await consumer.close();
    for (const kind of kinds) {
      await broker?.channel.deleteQueue(queueOf(queuePrefix, kind));
      await broker?.channel.deleteQueue(`${queueOf(queuePrefix, kind)}.dead`);
    }
  }
});

let consumerCount = 0;
/** A consumer on queues of its own (one prefix per test), recording whom it deactivated. */
async function startConsumer({ withIdentity = true } = {}) {
  const queuePrefix = `${filePrefix}.${consumerCount++}`;
  const deactivated: number[] = [];
  const consumer = await startIdentityEventConsumer(
    {
      db: db(),
      bus,
      identity: withIdentity ? identity : undefined,
      log,
      onUserDeactivated: (userId) => void deactivated.push(userId),
    },
    { queuePrefix },
  );
  consumers.push({ consumer, queuePrefix });
  return { queuePrefix, deactivated };
}

const db = () => testDb.handle.db;
const userRow = async (id: number) => (await db().select().from(users).where(eq(users.id, id)))[0];
const queueOf = (queuePrefix: string, kind: Kind) => `${queuePrefix}.on.auth.user.${kind}`;

const publish = (kind: Kind, body: unknown) =>
  bus.publishEvents([
    { routingKey: `auth.user.${kind}`, body: typeof body === "string" ? body : JSON.stringify(body) },
  ]);

const applied = (userId: number) =>
  logLines.filter((line) => line.msg === "identity event applied" && line.userId === userId);
const rejected = () => logLines.filter((line) => line.msg === "identity event rejected");

async function until(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The bodies RabbitMQ dead-lettered for a queue, once `count` of them have arrived. */
async function deadLetters(queue: string, count: number): Promise<string[]> {
  const channel = broker?.channel as Channel;
  await until(async () => (await channel.checkQueue(`${queue}.dead`)).messageCount >= count);
  const bodies: string[] = [];
  for (let message = await channel.get(`${queue}.dead`, { noAck: true }); message; ) {
    bodies.push(message.content.toString());
    message = await channel.get(`${queue}.dead`, { noAck: true });
  }
  return bodies;
}

async function seedUser(id: number) {
  fake.users.push(identityUser(id));
  await publish("created", { id });
  await until(() => applied(id).length === 1);
}

describe(`identity events (${amqpUrl ? "RabbitMQ" : "in-process bus"})`, () => {
  it("creates the user with the identity service's data when it is created", async () => {
    await startConsumer();
    fake.users.push(identityUser(7, { name: "Ada Lovelace", email: "ada@example.com" }));
    await publish("created", { id: 7 });
    await until(async () => (await userRow(7)) !== undefined);

    expect(await userRow(7)).toMatchObject({
      email: "ada@example.com",
      username: "user7",
      fullName: "Ada Lovelace",
      firstName: "First7",
      lastName: "Last7",
      avatar: "https://cdn.example.com/7.png",
      organizationId: 2,
      isActive: true,
      deletedAt: null,
    });
    expect(fake.requests).toEqual([{ path: "/users/7", authorization: `Bearer ${MASTER_TOKEN}` }]);
  });

  it("applies an update, and soft-deletes the user when the update deactivates them", async () => {
    const { deactivated } = await startConsumer();
    await seedUser(5);

    fake.users[0] = identityUser(5, { email: "renamed@example.com" });
    await publish("updated", { id: 5 });
    await until(async () => (await userRow(5))?.email === "renamed@example.com");
    expect(deactivated).toEqual([]);

    fake.users[0] = identityUser(5, { email: "renamed@example.com", is_active: 0 });
    await publish("updated", { id: 5 });
    await until(async () => (await userRow(5))?.deletedAt != null);
    expect(await userRow(5)).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });
    expect(deactivated).toEqual([5]);
  });

  it("soft-deletes an updated user the identity service no longer knows (404)", async () => {
    const { deactivated } = await startConsumer();
    await seedUser(6);

    fake.users.length = 0;
    await publish("updated", { id: 6 });
    await until(async () => (await userRow(6))?.deletedAt != null);
    expect(await userRow(6)).toMatchObject({ isActive: false, email: "user6@example.com" });
    expect(deactivated).toEqual([6]);
  });

  it("soft-deletes a deleted user without asking the identity service, keeping the first deletion time", async () => {
    const { deactivated } = await startConsumer();
    await db().insert(users).values({ id: 9, email: "user9@example.com", isActive: true });

    await publish("deleted", { id: 9 });
    await until(() => applied(9).length === 1);
    const deleted = await userRow(9);
    expect(deleted).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });
    expect(deactivated).toEqual([9]);
    expect(fake.requests).toEqual([]);

    await publish("deleted", { id: 9 });
    await until(() => applied(9).length === 2);
    expect(await userRow(9)).toEqual(deleted);
    expect(applied(9).map((line) => line.outcome)).toEqual(["deactivated", "unchanged"]);
  });

  it("dead-letters a message that is not JSON and goes on with the next one", async () => {
    const { queuePrefix } = await startConsumer();
    fake.users.push(identityUser(11));

    await publish("created", "not json");
    await publish("created", { id: 11 });
    await until(async () => (await userRow(11)) !== undefined);

    await until(() => rejected().length === 1);
    expect(rejected()[0]?.err?.message).toMatch(/not JSON/);
    expect(JSON.stringify(logLines)).not.toContain("not json");
    if (broker) expect(await deadLetters(queueOf(queuePrefix, "created"), 1)).toEqual(["not json"]);
  });

  it("rejects an event without a positive integer id, and logs nothing of its body or of secrets", async () => {
    const { queuePrefix, deactivated } = await startConsumer();
    const bad = [
      { id: -3, token: "body-secret-1" },
      { id: 1.5, token: "body-secret-2" },
      { id: "abc", token: "body-secret-3" },
      { user: 4, token: "body-secret-4" },
      [4, "body-secret-5"],
    ];
    for (const body of bad) await publish("deleted", body);

    await until(() => rejected().length === bad.length);
    for (const line of rejected()) expect(line.err?.message).toMatch(/no positive integer `id`/);
    const logged = JSON.stringify(logLines);
    expect(logged).not.toMatch(/body-secret/);
    expect(logged).not.toContain(MASTER_TOKEN);
    expect(deactivated).toEqual([]);
    if (broker) {
      expect(await deadLetters(queueOf(queuePrefix, "deleted"), bad.length)).toHaveLength(bad.length);
    }
  });

  it("leaves one unchanged row when the same created event arrives twice", async () => {
    await startConsumer();
    await seedUser(12);
    const first = await userRow(12);

    // The same event again, its id written as a string as some publishers do.
    await publish("created", { id: "12" });
    await until(() => applied(12).length === 2);
    expect(await db().select().from(users)).toEqual([first]);
    expect(applied(12).map((line) => line.outcome)).toEqual(["inserted", "unchanged"]);
  });

  it("without an identity service, dead-letters created and updated events but still applies deleted ones", async () => {
    const { queuePrefix, deactivated } = await startConsumer({ withIdentity: false });
    await db().insert(users).values({ id: 13, email: "user13@example.com", isActive: true });

    await publish("created", { id: 14 });
    await publish("updated", { id: 13 });
    await publish("deleted", { id: 13 });
    await until(() => rejected().length === 2 && applied(13).length === 1);

    // The two queues are consumed side by side, so their order is not fixed.
    expect(
      rejected()
        .map((line) => line.err?.message)
        .sort(),
    ).toEqual([
      expect.stringMatching(/auth\.user\.created for user 14: .*AUTH_API_URL/),
      expect.stringMatching(/auth\.user\.updated for user 13: .*AUTH_API_URL/),
    ]);
    expect(await userRow(14)).toBeUndefined();
    expect(await userRow(13)).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });
    expect(deactivated).toEqual([13]);
    if (broker) {
      expect(await deadLetters(queueOf(queuePrefix, "created"), 1)).toEqual(['{"id":14}']);
      expect(await deadLetters(queueOf(queuePrefix, "updated"), 1)).toEqual(['{"id":13}']);
    }
  });
});
