import { expect, it } from "vitest";
import { createEventHub, type HubEvent, type HubListener } from "./hub.js";

const listener = (deliver: (event: HubEvent) => void): HubListener => ({ deliver, gap() {}, ready() {} });
const envelope = (id: number, workspaceId: number) =>
  JSON.stringify({
    id: String(id),
    event_type: "workspace_status",
    channel: `workspace_${workspaceId}_status`,
  });
const turns = () => new Promise((resolve) => setTimeout(resolve, 50));

it("goes on past an event it cannot read and a listener that throws, reporting both", async () => {
  const errors: unknown[] = [];
  const hub = createEventHub(undefined, (error) => errors.push(error));
  const received: number[] = [];
  hub.listen(
    { workspaceId: 1 },
    listener(() => {
      throw new Error("a broken listener");
    }),
  );
  hub.listen(
    { workspaceId: 1 },
    listener((event) => received.push(event.id)),
  );

  hub.receive({ routingKey: "workspace.1.workspace_status", body: "{not json", userId: 7 });
  hub.receive({ routingKey: "workspace.1.workspace_status", body: envelope(2, 1), userId: 7 });
  hub.receive({ routingKey: "workspace.1.workspace_status", body: envelope(3, 1), userId: 7 });
  await turns();

  // Before, each of these was thrown from a macrotask of its own: the end of the process.
  expect(received).toEqual([2, 3]);
  expect(errors.map((error) => (error as Error).message)).toEqual([
    expect.stringContaining("JSON"),
    "a broken listener",
    "a broken listener",
  ]);
});
