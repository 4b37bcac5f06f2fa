CREATE TYPE "public"."event_type" AS ENUM('workspace_created', 'workspace_status', 'workspace_log', 'workspace_deleted');--> statement-breakpoint
CREATE TYPE "public"."operation_kind" AS ENUM('start', 'stop', 'restart', 'rebuild', 'delete');--> statement-breakpoint
CREATE TYPE "public"."operation_state" AS ENUM('queued', 'running', 'succeeded', 'failed', 'canceled');--> statement-breakpoint
CREATE TYPE "public"."repository_status" AS ENUM('pending', 'confirmed', 'ignored');--> statement-breakpoint
CREATE TYPE "public"."workspace_status" AS ENUM('pending', 'starting', 'running', 'stopping', 'stopped', 'restarting', 'rebuilding', 'terminating', 'terminated', 'failed');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"actor_id" bigint,
	"action" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" text NOT NULL,
	"organization_id" bigint,
	"before" jsonb,
	"after" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "git_access_tokens" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "git_access_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"title" text NOT NULL,
	"token" text NOT NULL,
	"user_id" bigint NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "machine_configs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "machine_configs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"instance_type" text NOT NULL,
	"category" text DEFAULT '' NOT NULL,
	"cpu_cores" integer NOT NULL,
	"memory_gb" double precision NOT NULL,
	"storage_type" text DEFAULT '' NOT NULL,
	"storage_size_gb" integer DEFAULT 0 NOT NULL,
	"network_performance" text DEFAULT '' NOT NULL,
	"architecture" text DEFAULT '' NOT NULL,
	"hypervisor" text DEFAULT '' NOT NULL,
	"generation" text DEFAULT '' NOT NULL,
	"enhanced_networking" boolean DEFAULT false NOT NULL,
	"gpu" text DEFAULT '' NOT NULL,
	"additional_features" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "machine_configs_instance_type_unique" UNIQUE("instance_type")
);
--> statement-breakpoint
CREATE TABLE "providers" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "providers_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"title" text NOT NULL,
	"icon" text,
	"source" text NOT NULL,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secret_options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"machine_type_option" text,
	"organization_id" bigint,
	"created_by_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "repositories" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "repositories_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"title" text NOT NULL,
	"url" text NOT NULL,
	"machine_config_id" bigint,
	"status" "repository_status" DEFAULT 'pending' NOT NULL,
	"added_by_admin" boolean DEFAULT false NOT NULL,
	"created_by_id" bigint,
	"organization_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigint PRIMARY KEY NOT NULL,
	"email" text,
	"username" text,
	"full_name" text,
	"first_name" text,
	"last_name" text,
	"avatar" text,
	"organization_id" bigint,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "workspace_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workspace_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"organization_id" bigint,
	"event_type" "event_type" NOT NULL,
	"channel" text NOT NULL,
	"data" jsonb NOT NULL,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_operations" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "workspace_operations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"workspace_id" bigint NOT NULL,
	"kind" "operation_kind" NOT NULL,
	"state" "operation_state" DEFAULT 'queued' NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"requested_by" bigint,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"error" text,
	"cancel_requested_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "workspaces_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"title" text NOT NULL,
	"color" text,
	"ide" text DEFAULT 'none' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"user_id" bigint NOT NULL,
	"organization_id" bigint,
	"repository_id" bigint NOT NULL,
	"provider_id" bigint NOT NULL,
	"machine_config_id" bigint,
	"git_access_token_id" bigint,
	"status" "workspace_status" DEFAULT 'pending' NOT NULL,
	"devpod_id" text NOT NULL,
	"fingerprint" text NOT NULL,
	"url" text,
	"last_started_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "workspaces_devpod_id_unique" UNIQUE("devpod_id"),
	CONSTRAINT "workspaces_fingerprint_unique" UNIQUE("fingerprint")
);
--> statement-breakpoint
ALTER TABLE "git_access_tokens" ADD CONSTRAINT "git_access_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "providers" ADD CONSTRAINT "providers_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repositories" ADD CONSTRAINT "repositories_machine_config_id_machine_configs_id_fk" FOREIGN KEY ("machine_config_id") REFERENCES "public"."machine_configs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repositories" ADD CONSTRAINT "repositories_created_by_id_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_operations" ADD CONSTRAINT "workspace_operations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_operations" ADD CONSTRAINT "workspace_operations_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_machine_config_id_machine_configs_id_fk" FOREIGN KEY ("machine_config_id") REFERENCES "public"."machine_configs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_git_access_token_id_git_access_tokens_id_fk" FOREIGN KEY ("git_access_token_id") REFERENCES "public"."git_access_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_object_idx" ON "audit_log" USING btree ("object_type","object_id");--> statement-breakpoint
CREATE INDEX "git_access_tokens_user_idx" ON "git_access_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "git_access_tokens_one_default_key" ON "git_access_tokens" USING btree ("user_id") WHERE is_default and deleted_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "providers_name_live_key" ON "providers" USING btree ("name") WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX "repositories_organization_status_idx" ON "repositories" USING btree ("organization_id","status");--> statement-breakpoint
CREATE INDEX "users_organization_id_idx" ON "users" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "workspace_events_workspace_idx" ON "workspace_events" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "workspace_events_user_idx" ON "workspace_events" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "workspace_events_unpublished_idx" ON "workspace_events" USING btree ("id") WHERE published_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "workspace_operations_one_open_key" ON "workspace_operations" USING btree ("workspace_id") WHERE state in ('queued', 'running') and cancel_requested_at is null;--> statement-breakpoint
CREATE INDEX "workspace_operations_lease_idx" ON "workspace_operations" USING btree ("state","lease_expires_at");--> statement-breakpoint
CREATE INDEX "workspaces_user_idx" ON "workspaces" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "workspaces_organization_idx" ON "workspaces" USING btree ("organization_id");