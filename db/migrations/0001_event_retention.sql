CREATE TABLE "workspace_event_prunes" (
	"workspace_id" bigint PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"pruned_through" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "workspace_event_prunes_user_idx" ON "workspace_event_prunes" USING btree ("user_id","pruned_through");