import type { inferRouterInputs, inferRouterOutputs, TRPCBuiltRouter } from "@trpc/server";
declare const appRouter: TRPCBuiltRouter<{
    ctx: object;
    meta: object;
    errorShape: {
        message: string;
        data: {
            appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
            zodIssues: import("zod/v4/core").$ZodIssue[] | null;
            stack: undefined;
            code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
            httpStatus: number;
            path?: string;
        };
        code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
    };
    transformer: false;
}, {
    auth: {
        me: import("@trpc/server").TRPCQueryProcedure<{
            input: void;
            output: {
                id: number;
                email: string | null;
                username: string | null;
                fullName: string | null;
                avatar: string | null;
                organizationId: number | null;
                roles: string[];
                isAdmin: boolean;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        createShortToken: import("@trpc/server").TRPCMutationProcedure<{
            input: void;
            output: {
                token: string;
                expiresAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
    machineConfig: {
        list: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                page?: number | undefined;
                limit?: number | undefined;
                q?: string | undefined;
            } | undefined;
            output: {
                items: {
                    id: number;
                    instanceType: string;
                    category: string;
                    cpuCores: number;
                    memoryGb: number;
                    storageType: string;
                    storageSizeGb: number;
                    networkPerformance: string;
                    architecture: string;
                    hypervisor: string;
                    generation: string;
                    enhancedNetworking: boolean;
                    gpu: string;
                    additionalFeatures: string;
                }[];
                page: number;
                limit: number;
                total: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        get: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                instanceType: string;
                category: string;
                cpuCores: number;
                memoryGb: number;
                storageType: string;
                storageSizeGb: number;
                networkPerformance: string;
                architecture: string;
                hypervisor: string;
                generation: string;
                enhancedNetworking: boolean;
                gpu: string;
                additionalFeatures: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
    provider: {
        list: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                page?: number | undefined;
                limit?: number | undefined;
                q?: string | undefined;
            } | undefined;
            output: {
                items: {
                    id: number;
                    name: string;
                    title: string;
                    icon: string | null;
                    source: string;
                    options: Record<string, string>;
                    secretOptionKeys: string[];
                    machineTypeOption: string | null;
                    organizationId: number | null;
                    createdById: number | null;
                    createdAt: string;
                    updatedAt: string;
                }[];
                page: number;
                limit: number;
                total: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        get: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                name: string;
                title: string;
                icon: string | null;
                source: string;
                options: Record<string, string>;
                secretOptionKeys: string[];
                machineTypeOption: string | null;
                organizationId: number | null;
                createdById: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        create: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                name: string;
                source: string;
                title?: string | undefined;
                icon?: string | null | undefined;
                options?: Record<string, string> | undefined;
                secretOptions?: Record<string, string> | undefined;
                machineTypeOption?: string | null | undefined;
            };
            output: {
                id: number;
                name: string;
                title: string;
                icon: string | null;
                source: string;
                options: Record<string, string>;
                secretOptionKeys: string[];
                machineTypeOption: string | null;
                organizationId: number | null;
                createdById: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        update: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
                name?: string | undefined;
                title?: string | undefined;
                icon?: string | null | undefined;
                source?: string | undefined;
                options?: Record<string, string> | undefined;
                secretOptions?: Record<string, string | null> | undefined;
                machineTypeOption?: string | null | undefined;
            };
            output: {
                id: number;
                name: string;
                title: string;
                icon: string | null;
                source: string;
                options: Record<string, string>;
                secretOptionKeys: string[];
                machineTypeOption: string | null;
                organizationId: number | null;
                createdById: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        delete: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
    repository: {
        list: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                page?: number | undefined;
                limit?: number | undefined;
                q?: string | undefined;
                status?: "pending" | "confirmed" | "ignored" | undefined;
                mine?: boolean | undefined;
            } | undefined;
            output: {
                items: {
                    id: number;
                    title: string;
                    url: string;
                    machineConfigId: number | null;
                    status: "pending" | "confirmed" | "ignored";
                    addedByAdmin: boolean;
                    createdById: number | null;
                    organizationId: number | null;
                    createdAt: string;
                    updatedAt: string;
                }[];
                page: number;
                limit: number;
                total: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        get: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                url: string;
                machineConfigId: number | null;
                status: "pending" | "confirmed" | "ignored";
                addedByAdmin: boolean;
                createdById: number | null;
                organizationId: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        propose: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                title: string;
                url: string;
                machineConfigId?: number | undefined;
            };
            output: {
                id: number;
                title: string;
                url: string;
                machineConfigId: number | null;
                status: "pending" | "confirmed" | "ignored";
                addedByAdmin: boolean;
                createdById: number | null;
                organizationId: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        create: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                title: string;
                url: string;
                machineConfigId?: number | undefined;
            };
            output: {
                id: number;
                title: string;
                url: string;
                machineConfigId: number | null;
                status: "pending" | "confirmed" | "ignored";
                addedByAdmin: boolean;
                createdById: number | null;
                organizationId: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        update: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
                title?: string | undefined;
                url?: string | undefined;
                machineConfigId?: number | null | undefined;
            };
            output: {
                id: number;
                title: string;
                url: string;
                machineConfigId: number | null;
                status: "pending" | "confirmed" | "ignored";
                addedByAdmin: boolean;
                createdById: number | null;
                organizationId: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        confirm: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                url: string;
                machineConfigId: number | null;
                status: "pending" | "confirmed" | "ignored";
                addedByAdmin: boolean;
                createdById: number | null;
                organizationId: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        ignore: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                url: string;
                machineConfigId: number | null;
                status: "pending" | "confirmed" | "ignored";
                addedByAdmin: boolean;
                createdById: number | null;
                organizationId: number | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        delete: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
    gitToken: {
        list: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                page?: number | undefined;
                limit?: number | undefined;
                q?: string | undefined;
            } | undefined;
            output: {
                items: {
                    id: number;
                    title: string;
                    isDefault: boolean;
                    createdAt: string;
                    updatedAt: string;
                }[];
                page: number;
                limit: number;
                total: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        create: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                title: string;
                token: string;
                isDefault?: boolean | undefined;
            };
            output: {
                id: number;
                title: string;
                isDefault: boolean;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        update: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
                title?: string | undefined;
                token?: string | undefined;
                isDefault?: boolean | undefined;
            };
            output: {
                id: number;
                title: string;
                isDefault: boolean;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        delete: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
    workspace: {
        create: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                title: string;
                repositoryId: number;
                providerId: number;
                machineConfigId?: number | undefined;
                gitAccessTokenId?: number | undefined;
                ide?: "none" | "vscode" | "openvscode" | "intellij" | "goland" | "pycharm" | "webstorm" | "jupyternotebook" | "cursor" | "zed" | undefined;
                color?: string | undefined;
                tags?: string[] | undefined;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        list: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                page?: number | undefined;
                limit?: number | undefined;
                q?: string | undefined;
                status?: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed" | undefined;
                organizationId?: number | undefined;
            } | undefined;
            output: {
                items: {
                    id: number;
                    title: string;
                    color: string | null;
                    ide: string;
                    tags: string[];
                    userId: number;
                    organizationId: number | null;
                    repositoryId: number;
                    providerId: number;
                    machineConfigId: number | null;
                    gitAccessTokenId: number | null;
                    status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                    devpodId: string;
                    fingerprint: string;
                    url: string | null;
                    lastStartedAt: string | null;
                    createdAt: string;
                    updatedAt: string;
                }[];
                page: number;
                limit: number;
                total: number;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        get: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        byFingerprint: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                fingerprint: string;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        update: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
                title?: string | undefined;
                color?: string | null | undefined;
                tags?: string[] | undefined;
                ide?: "none" | "vscode" | "openvscode" | "intellij" | "goland" | "pycharm" | "webstorm" | "jupyternotebook" | "cursor" | "zed" | undefined;
                repositoryId?: number | undefined;
                machineConfigId?: number | undefined;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        start: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        stop: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        restart: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        rebuild: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        delete: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                title: string;
                color: string | null;
                ide: string;
                tags: string[];
                userId: number;
                organizationId: number | null;
                repositoryId: number;
                providerId: number;
                machineConfigId: number | null;
                gitAccessTokenId: number | null;
                status: "pending" | "starting" | "running" | "stopping" | "stopped" | "restarting" | "rebuilding" | "terminating" | "terminated" | "failed";
                devpodId: string;
                fingerprint: string;
                url: string | null;
                lastStartedAt: string | null;
                createdAt: string;
                updatedAt: string;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        cancel: import("@trpc/server").TRPCMutationProcedure<{
            input: {
                id: number;
            };
            output: {
                id: number;
                workspaceId: number;
                kind: "start" | "stop" | "restart" | "rebuild" | "delete";
                state: "running" | "failed" | "queued" | "succeeded" | "canceled";
                error: string | null;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        logs: import("@trpc/server").TRPCQueryProcedure<{
            input: {
                workspaceId: number;
                after?: number | undefined;
                limit?: number | undefined;
            };
            output: {
                items: {
                    id: number;
                    operationId: number;
                    time: string;
                    level: "error" | "debug" | "fatal" | "info" | "warning";
                    text: string;
                }[];
                nextCursor: number | null;
            };
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
    events: {
        workspace: import("@trpc/server").TRPCSubscriptionProcedure<{
            input: {
                workspaceId: number;
                lastEventId?: string | number | undefined;
            };
            output: AsyncIterable<import("@trpc/server/unstable-core-do-not-import").TrackedData<import("@cluster-code/server").WorkspaceEvent>, void, unknown>;
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
        mine: import("@trpc/server").TRPCSubscriptionProcedure<{
            input: {
                lastEventId?: string | number | undefined;
            } | undefined;
            output: AsyncIterable<import("@trpc/server/unstable-core-do-not-import").TrackedData<import("@cluster-code/server").WorkspaceEvent>, void, unknown>;
            meta: object;
            errorShape: {
                message: string;
                data: {
                    appCode: "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED" | "USER_INACTIVE" | "VALIDATION_FAILED" | "ALREADY_EXISTS" | "IN_USE" | "WORKSPACE_BUSY" | "INVALID_STATE" | "QUOTA_EXCEEDED" | "UNAVAILABLE" | null;
                    zodIssues: import("zod/v4/core").$ZodIssue[] | null;
                    stack: undefined;
                    code: import("@trpc/server").TRPC_ERROR_CODE_KEY;
                    httpStatus: number;
                    path?: string;
                };
                code: import("@trpc/server").TRPC_ERROR_CODE_NUMBER;
            };
        }>;
    };
}>;
/** The Cluster Code API, for `createTRPCClient<AppRouter>` and tRPC's inference helpers. */
export type AppRouter = typeof appRouter;
/** Every procedure's input, e.g. `RouterInputs["workspace"]["create"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output, e.g. `RouterOutputs["workspace"]["list"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type Workspace = RouterOutputs["workspace"]["get"];
export type WorkspaceStatus = Workspace["status"];
export type Provider = RouterOutputs["provider"]["get"];
export type MachineConfig = RouterOutputs["machineConfig"]["get"];
export type Repository = RouterOutputs["repository"]["get"];
export type GitAccessToken = RouterOutputs["gitToken"]["list"]["items"][number];
export type CurrentUser = RouterOutputs["auth"]["me"];
/** The shape of the server's errors (`error.data` on a `TRPCClientError`). */
export type ErrorShape = AppRouter["_def"]["_config"]["$types"]["errorShape"];
/** The stable application error codes in `error.data.appCode`, e.g. `WORKSPACE_BUSY`. */
export type AppCode = NonNullable<ErrorShape["data"]["appCode"]>;
export {};
