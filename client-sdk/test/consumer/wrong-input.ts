// Mistakes the SDK's types must catch: each line marked `expect-error` fails type-checking.
import { createClusterCodeClient } from "@cluster-code/client-sdk";

const client = createClusterCodeClient({ url: "https://code.example.com", getMainToken: () => "main token" });

await client.api.workspace.get.query({ id: "42" }); // expect-error: ids are numbers
client.watchWorkspace(42, { workspace_status: (event) => event.data.text }); // expect-error: log lines have text, status events do not
