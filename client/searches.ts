/**
 * Starting and inspecting searches: shared by the CLI, the demo and the tests so they all speak to the
 * workflow the same way.
 */
import * as path from 'node:path';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import {
  taskQueuesFor,
  type SearchInput,
  type SearchProgress,
  type SearchResult,
} from '../activities/contracts';
import type { RunConfig } from '../config/schema';
import {
  connectionSettingsFromEnv,
  tlsOptions,
  UnreachableServerError,
  type ConnectionSettings,
} from './connection';

export const WORKFLOW_TYPE = 'nasSearch';

export function workflowIdFor(searchId: string): string {
  return `nas/${searchId}`;
}

export function webUiUrl(uiBase: string, namespace: string, searchId: string): string {
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowIdFor(searchId))}`;
}

/** The Web UI base for a server address: the dev server serves it on the gRPC port + 1000. */
export function defaultUiBase(address: string): string {
  const [host, port] = address.split(':');
  return process.env.IMCNAS_WEB_UI ?? `http://${host}:${Number(port) + 1000}`;
}

export async function connectClient(settings: ConnectionSettings): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: settings.address,
      tls: tlsOptions(settings),
      apiKey: settings.apiKey,
      connectTimeout: 5000,
    });
  } catch (error) {
    throw new UnreachableServerError(settings.address, error);
  }
  return new Client({ connection, namespace: settings.namespace });
}

export function clientSettingsFor(config: RunConfig): ConnectionSettings {
  // The environment (a real cluster's address, TLS, API key) wins over the config's local default.
  return connectionSettingsFromEnv({
    address: process.env.TEMPORAL_ADDRESS ?? config.temporal.address,
    namespace: process.env.TEMPORAL_NAMESPACE ?? config.temporal.namespace,
  });
}

export interface StartedSearch {
  searchId: string;
  workflowId: string;
  runId: string;
  runDir: string;
  /** True when a search with this id was already running and we attached to it instead. */
  attached: boolean;
}

export async function startSearch(
  client: Client,
  config: RunConfig,
  options: { searchId?: string; cwd?: string } = {},
): Promise<StartedSearch> {
  const searchId = options.searchId ?? config.name;
  const runDir = path.resolve(options.cwd ?? process.cwd(), config.artifacts.root, searchId);
  const input: SearchInput = { searchId, runDir, config };
  const workflowId = workflowIdFor(searchId);
  const existing = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
  if (existing?.status.name === 'RUNNING') {
    return { searchId, workflowId, runId: existing.runId, runDir, attached: true };
  }
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: taskQueuesFor(config.temporal.taskQueuePrefix).orchestration,
      workflowId,
      args: [input],
      // Two clients racing to start the same search end up attached to one run, not two.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `imcnas search ${searchId} on ${config.dataset.name}`,
    });
    return { searchId, workflowId, runId: handle.firstExecutionRunId, runDir, attached: false };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const described = await client.workflow.getHandle(workflowId).describe();
      return { searchId, workflowId, runId: described.runId, runDir, attached: true };
    }
    throw error;
  }
}

export interface SearchStatus {
  searchId: string;
  workflowId: string;
  status: string;
  startTime: string;
  closeTime?: string;
  progress?: SearchProgress;
  result?: SearchResult;
  /** Objective names, in the order of every objective vector. */
  objectives: string[];
}

export async function searchStatus(client: Client, searchId: string): Promise<SearchStatus | undefined> {
  const handle = client.workflow.getHandle(workflowIdFor(searchId));
  let described;
  try {
    described = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  const status: SearchStatus = {
    searchId,
    workflowId: described.workflowId,
    status: described.status.name,
    startTime: described.startTime.toISOString(),
    closeTime: described.closeTime?.toISOString(),
    objectives: [],
  };
  if (described.status.name === 'COMPLETED') {
    status.result = (await handle.result()) as SearchResult;
    status.objectives = status.result.objectives;
  } else if (described.status.name === 'RUNNING') {
    status.progress = await handle.query<SearchProgress>('progress').catch(() => undefined);
    status.objectives = status.progress?.objectives ?? [];
  }
  return status;
}
