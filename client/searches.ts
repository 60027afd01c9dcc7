/**
 * Starting and inspecting searches: shared by the CLI, the demo and the tests so they all speak to the
 * workflow the same way.
 */
import { runFiles } from '../storage/runLayout';
import * as path from 'node:path';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { taskQueuesFor } from '../activities/contracts';
import type { SearchInput, SearchProgress, SearchResult, StopMode, StopRequest } from '../contracts';
import { loadConfigFile } from '../config/load';
import { describePendingWork } from './format';
import { checkRunConfigMatches } from '../config/identity';
import { checkSearchId, recordedConfigSha256 } from '../storage/runPaths';
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
  checkSearchId(searchId, '--id');
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
  // Before anything starts: an id whose run directory holds another configuration's artifacts.
  const recorded = recordedConfigSha256(runDir);
  if (recorded !== undefined) checkRunConfigMatches(runDir, searchId, recorded, config);
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
  /** Why a FAILED search failed (the innermost cause of the workflow failure). */
  failure?: string;
  /** Activities in flight, with their last heartbeat and, when retrying, why the last attempt failed. */
  pending?: string[];
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
    status.pending = describePendingWork(described.raw.pendingActivities);
  } else if (described.status.name === 'FAILED') {
    status.failure = await handle.result().then(
      () => undefined,
      (error: unknown) => innermostCause(error),
    );
  }
  return status;
}

export async function pauseSearch(client: Client, searchId: string): Promise<SearchProgress> {
  return client.workflow.getHandle(workflowIdFor(searchId)).executeUpdate<SearchProgress, []>('pause');
}

export async function resumeSearch(client: Client, searchId: string): Promise<SearchProgress> {
  return client.workflow.getHandle(workflowIdFor(searchId)).executeUpdate<SearchProgress, []>('resume');
}

export async function stopSearch(client: Client, searchId: string, mode: StopMode): Promise<SearchProgress> {
  return client.workflow
    .getHandle(workflowIdFor(searchId))
    .executeUpdate<SearchProgress, [StopRequest]>('stop', { args: [{ mode }] });
}

export interface SearchListing {
  searchId: string;
  status: string;
  stage: string | undefined;
  generation: number | undefined;
  bestAccuracy: number | undefined;
  startTime: string;
}

/** Searches in the namespace, newest first (from the visibility store: the search attributes). */
export async function listSearches(client: Client, limit = 50): Promise<SearchListing[]> {
  const listings: SearchListing[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}'` })) {
    const attributes = execution.searchAttributes as Record<string, unknown[] | undefined>;
    listings.push({
      searchId: execution.workflowId.replace(/^nas\//, ''),
      status: execution.status.name,
      stage: attributes.ImcnasStage?.[0] as string | undefined,
      generation: attributes.ImcnasGeneration?.[0] as number | undefined,
      bestAccuracy: attributes.ImcnasBestAccuracy?.[0] as number | undefined,
      startTime: execution.startTime.toISOString(),
    });
    if (listings.length >= limit) break;
  }
  return listings;
}

/**
 * Restarts a failed, cancelled, terminated or timed-out search from its run directory: the same search id
 * and config (read back from the run's config.yaml), so every idempotent activity returns its stored
 * result and training resumes from its newest checkpoint: only unfinished work runs again.
 */
export async function resumeFailedSearch(client: Client, searchId: string): Promise<StartedSearch> {
  const handle = client.workflow.getHandle(workflowIdFor(searchId));
  const described = await handle.describe();
  if (described.status.name === 'RUNNING')
    throw new Error(`search ${searchId} is running; nothing to resume`);
  if (described.status.name === 'COMPLETED')
    throw new Error(`search ${searchId} completed; see \`imcnas results ${searchId}\``);
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload?.data) throw new Error(`cannot read the input of ${workflowIdFor(searchId)}`);
  const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as SearchInput;
  const config = await loadConfigFile(runFiles(input.runDir).config);
  const restarted = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: taskQueuesFor(config.temporal.taskQueuePrefix).orchestration,
    workflowId: workflowIdFor(searchId),
    args: [{ ...input, config }],
    staticSummary: `imcnas search ${searchId} (resumed)`,
  });
  return {
    searchId,
    workflowId: restarted.workflowId,
    runId: restarted.firstExecutionRunId,
    runDir: input.runDir,
    attached: false,
  };
}

function innermostCause(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  let message = current?.message ?? String(error);
  while (current?.cause) {
    current = current.cause as typeof current;
    if (current?.message) message = current.message;
  }
  return message;
}
