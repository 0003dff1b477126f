/**
 * Registered workflows: `GET {apiUrl}/{workspace}/workflows/{workflowId}?api_key={key}` answers
 * `{"workflow": {"id", "config": "<JSON string whose .specification is the spec>"}}`. The key travels only in that
 * query; it is never part of a message, a log or a stored value.
 */
import { endpointOf, redactSecret } from '../models/redaction.ts';
import { WorkflowError } from './workflow-errors.ts';

/** Where a registered workflow lives. */
export interface RegisteredWorkflowReference {
  workspaceName: string;
  workflowId: string;
  apiKey: string;
  /** Default `https://api.roboflow.com`. */
  apiUrl?: string;
  /** `fetch` to use (tests). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Fetching a registered workflow failed: HTTP status, network, or an answer of the wrong shape. */
export class RegisteredWorkflowError extends WorkflowError {
  override readonly name = 'RegisteredWorkflowError';
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  constructor(summary: string, where: { step?: string; property?: string; value?: unknown }, status?: number) {
    super(summary, where);
    this.status = status;
  }
}

const STATUS_TEXT: Record<number, string> = {
  401: 'not authorised: the API key is missing or invalid',
  403: 'forbidden: the API key has no access to this workspace',
  404: 'not found: check workspaceName and workflowId',
  402: 'payment required: the workspace is out of credits',
  423: 'usage paused for this workspace',
};

/** Fetches and unpacks a registered workflow's specification. */
export async function fetchRegisteredWorkflow(ref: RegisteredWorkflowReference): Promise<unknown> {
  const base = (ref.apiUrl ?? 'https://api.roboflow.com').replace(/\/+$/, '');
  const url = `${base}/${encodeURIComponent(ref.workspaceName)}/workflows/${encodeURIComponent(ref.workflowId)}?api_key=${encodeURIComponent(ref.apiKey)}`;
  const where = { step: `workflow ${ref.workspaceName}/${ref.workflowId}`, property: 'workflowId', value: ref.workflowId };
  const endpoint = endpointOf(url);
  let response: Response;
  try {
    response = await (ref.fetch ?? fetch)(url, { signal: ref.signal });
  } catch (error) {
    throw new RegisteredWorkflowError(`could not reach ${endpoint}: ${redactSecret((error as Error)?.message ?? String(error), ref.apiKey)}`, where);
  }
  if (!response.ok) {
    throw new RegisteredWorkflowError(`${endpoint} answered ${response.status} ${STATUS_TEXT[response.status] ?? response.statusText}`, where, response.status);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new RegisteredWorkflowError(`${endpoint} did not answer JSON`, where, response.status);
  }
  const workflow = (json as { workflow?: { config?: unknown } } | null)?.workflow;
  let config: unknown = workflow?.config;
  if (typeof config === 'string') {
    try {
      config = JSON.parse(config);
    } catch {
      throw new RegisteredWorkflowError(`${endpoint}: workflow.config is not valid JSON`, { ...where, property: 'config' }, response.status);
    }
  }
  const specification = (config as { specification?: unknown } | null)?.specification;
  if (typeof specification !== 'object' || specification === null) {
    throw new RegisteredWorkflowError(`${endpoint}: expected {"workflow": {"config": "<JSON with a specification>"}}`, { ...where, property: 'config' }, response.status);
  }
  return specification;
}
