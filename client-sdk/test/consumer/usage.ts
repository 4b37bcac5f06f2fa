// A frontend's use of the SDK, type-checked in a project that installed the packed package.
import {
  type AppCode,
  appCodeOf,
  type ConnectionState,
  createClusterCodeClient,
  type Provider,
  type RouterInputs,
  type Workspace,
  type WorkspaceEvent,
  type WorkspaceEventOf,
  type WorkspaceStatus,
} from "@cluster-code/client-sdk";

const client = createClusterCodeClient({
  url: "https://code.example.com",
  getMainToken: async () => "main token",
});

export function describeEvent(event: WorkspaceEvent): string {
  switch (event.event_type) {
    case "workspace_created":
      return `created workspace ${event.data.workspace_id}`;
    case "workspace_status":
      return `${event.data.previous_status ?? "new"} -> ${event.data.status}`;
    case "workspace_log":
      return `[${event.data.level}] ${event.data.text}`;
    case "workspace_deleted":
      return `deleted workspace ${event.data.workspace_id}`;
    case "events_pruned":
      return `log lines after ${event.data.after} up to ${event.data.pruned_through} were pruned`;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export async function startWorkspace(input: RouterInputs["workspace"]["create"]): Promise<Workspace> {
  const providers: Provider[] = (await client.api.provider.list.query({ limit: 10 })).items;
  const workspace = await client.api.workspace.create.mutate({
    ...input,
    providerId: providers[0]?.id ?? input.providerId,
  });
  await new Promise<void>((resolve, reject) => {
    const stop = client.watchWorkspace(
      workspace.id,
      {
        workspace_status: (event: WorkspaceEventOf<"workspace_status">) => {
          const status: WorkspaceStatus = event.data.status;
          if (status === "running") resolve();
          if (status === "failed") reject(new Error(event.data.message ?? "failed"));
        },
        workspace_log: ({ data }) => console.log(data.time, data.text),
        onError: reject,
      },
      { lastEventId: 0 },
    );
    client.onConnectionStateChange((state: ConnectionState, error) => {
      if (state === "connecting" && error) console.warn("reconnecting:", error.message);
    });
    void stop;
  });
  return workspace;
}

export async function stopWorkspace(id: number): Promise<"stopped" | AppCode> {
  try {
    await client.api.workspace.stop.mutate({ id });
    return "stopped";
  } catch (error) {
    const code = appCodeOf(error);
    if (code === "WORKSPACE_BUSY" || code === "NOT_FOUND") return code;
    throw error;
  }
}
