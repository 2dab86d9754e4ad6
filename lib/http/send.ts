// The pipeline's last step: sending one authorized request, for single requests and batch lines
// alike. Before a DELETE the resource is saved (a backup); before a write leaves, its audit line is
// reserved (a write that cannot be recorded is not sent); once answered, the outcome is recorded.
// Also the client every request of a run goes through (the key, retries, the shared budget).
import { accessSync, constants } from 'node:fs';
import { BackupFailedError, StateDirUnusableError, ToolkitError, UsageError } from '../core/errors.js';
import { notice, writeLine, type IO } from '../core/io.js';
import { ensurePrivateDir, STATE_DIR_VARIABLE } from '../core/state-dir.js';
import { userAgent } from '../core/version.js';
import { keyError, redactSecret, type SecretKey } from '../guard/key.js';
import { isWriteMethod } from '../guard/scopes.js';
import type { ConsentRecord } from '../guard/authorize.js';
import type { LoadedFormField } from '../request/form.js';
import { bodyText, judgedRequest, wireHeaders, type NormalizedRequest } from '../request/prepare.js';
import type { ClientConfig, HttpClient, HttpResponse } from './client.js';
import { governor, rateLimitFor, RATE_LIMIT_VARIABLE, type Governor } from './governor.js';
import { errorSummary, parseBody, traceIdOf } from './response.js';

/** What sending needs beside the request. */
export interface SendContext {
  client: HttpClient;
  stateDir: string;
  key: SecretKey;
  /** The spec version: the Clerk-API-Version header. */
  version: string;
  now: () => Date;
  /** The spec's template it matched, or null. */
  endpoint: { method: string; path: string } | null;
  /** The resource has a GET at the same path: it can be saved before a DELETE. */
  readable: boolean;
  /** --no-backup clears it. */
  backup: boolean;
  consent: ConsentRecord;
  approvalId: string | null;
  /** A batch line's number, for the audit. */
  batchLine?: number;
  /** One line for a person (bapi-curl's stderr). */
  say: (text: string) => void;
  /** Called once the audit line is reserved, right before the request leaves (a batch journals it). */
  onSending?: () => void;
  /** -v: where the request line and headers (key masked), then the response's, are shown. */
  verbose?: (lines: string) => void;
}

export interface Sent {
  response: HttpResponse;
  /** Where the resource was saved before a DELETE, or null. */
  backup: string | null;
}

/** Sends one request. Throws BackupFailedError or AuditUnwritableError before anything leaves, or the client's error once it may have. */
export async function sendRequest(request: NormalizedRequest, context: SendContext): Promise<Sent> {
  const { client, key, version } = context;
  const write = isWriteMethod(request.method);
  let backup: string | null = null;
  if (request.method === 'DELETE' && context.backup && context.endpoint && context.readable) {
    backup = await backupBeforeDelete(client, request, context);
    if (context.batchLine === undefined) context.say(backup ? `saved ${request.path} to ${backup} before deleting it` : `nothing to back up at ${request.path} (404)`);
  }
  const headers = wireHeaders(request, version);
  const multipart = await formBody(request.form);
  if (multipart) headers['content-type'] = multipart.contentType;
  const audit = write ? await writeAudit(request, context, backup) : null;
  audit?.reserve();
  context.onSending?.();
  if (context.verbose) context.verbose([`> ${request.method} ${request.url.href}`, `> Authorization: Bearer ${key.info.masked ?? '…'}`, ...Object.entries(headers).map(([name, value]) => `> ${name}: ${value}`)].join('\n'));
  let response: HttpResponse;
  try {
    response = await client.send({ method: request.method, url: request.url, headers, body: bodyText(request) ?? multipart?.body ?? null }, { redirects: write ? 'never' : 'follow' });
  } catch (error) {
    audit?.outcome(null, null, error instanceof Error ? error.message : String(error));
    throw error;
  }
  if (context.verbose) context.verbose([`< HTTP ${response.status} ${response.statusText}`.trimEnd(), ...Object.entries(response.headers).map(([name, value]) => `< ${name}: ${value}`)].join('\n'));
  audit?.outcome(response.status, traceIdOf(response), null);
  return { response, backup };
}

async function writeAudit(request: NormalizedRequest, context: SendContext, backup: string | null) {
  const { auditTrail, bodyFields } = await import('./audit.js');
  const { key } = context;
  return auditTrail(
    context.stateDir,
    {
      method: request.method,
      path: request.url.pathname,
      query: request.query,
      endpoint: context.endpoint ? `${context.endpoint.method} ${context.endpoint.path}` : null,
      approval_id: context.approvalId,
      confirmed_by: context.consent.confirmedBy,
      consent_mode: context.consent.consentMode,
      scope_bypass: context.consent.scopeBypass,
      key_fingerprint: key.info.fingerprint,
      api_version: context.version,
      body_fields: bodyFields(judgedRequest(request).body),
      backup,
      ...(context.batchLine === undefined ? {} : { batch_line: context.batchLine }),
    },
    {
      now: context.now,
      redact: (line) => redactSecret(line, key.value, key.info.masked ?? '[REDACTED]'),
      notSent: context.batchLine === undefined ? 'nothing was sent' : `line ${context.batchLine} was not sent`,
      described: context.batchLine === undefined ? `the ${request.method}` : `${request.method} ${request.url.pathname} (line ${context.batchLine})`,
      warn: (text) => context.say(`warning: ${text}`),
    },
  );
}

/** Saves the resource a DELETE removes, redacted of the key; null when it is gone already (404). Never follows another host. */
async function backupBeforeDelete(client: HttpClient, request: NormalizedRequest, context: SendContext): Promise<string | null> {
  const url = new URL(request.url.href);
  url.search = '';
  let response: HttpResponse;
  try {
    // Another host's answer is not this resource's last state.
    response = await client.send({ method: 'GET', url, headers: { 'clerk-api-version': context.version }, body: null }, { redirects: 'same-origin' });
  } catch (error) {
    throw new BackupFailedError(`could not back up ${url.pathname} before deleting it: ${(error as Error).message}; nothing was deleted`, {
      hints: ['Rerun when the API answers, or add --no-backup to delete without a backup.'],
    });
  }
  if (response.status === 404) return null;
  const parsed = parseBody(response);
  if (response.status !== 200 || !parsed.ok) {
    throw new BackupFailedError(`could not back up ${url.pathname} before deleting it (${errorSummary(response)}); nothing was deleted`, {
      hints: ['Add --no-backup to delete without a backup.'],
    });
  }
  const { saveBackup } = await import('./backup.js');
  const backup = {
    saved_at: context.now().toISOString(),
    path: url.pathname,
    endpoint: `GET ${context.endpoint?.path ?? request.path}`,
    api_version: context.version,
    status: response.status,
    clerk_trace_id: traceIdOf(response, parsed.value),
    resource: parsed.value,
  };
  return saveBackup(context.stateDir, redactSecret(backup, context.key.value, context.key.info.masked ?? '[REDACTED]'));
}

/** The multipart body of --form fields, encoded once from the bytes already read (so a retry, and the approval, see the same). */
async function formBody(form: LoadedFormField[] | null): Promise<{ body: Buffer; contentType: string } | null> {
  if (!form) return null;
  const { basename } = await import('node:path');
  const encoded = new FormData();
  for (const field of form) {
    if (field.content !== undefined) encoded.append(field.name, new Blob([field.content], { type: field.type ?? 'application/octet-stream' }), basename(field.file ?? 'file'));
    else encoded.append(field.name, field.value ?? '');
  }
  const response = new Response(encoded);
  return { body: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'multipart/form-data' };
}

/** What the client needs from the front-end. */
export interface ClientDeps {
  io: IO;
  createClient: (config: ClientConfig) => HttpClient;
}

function integerEnv(env: IO['env'], name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

const DEFAULT_MAX_RESPONSE_MB = 256;

/** The client every request of one run goes through: the key, the version, retries, and the instance's shared budget. */
export function clerkClient(deps: ClientDeps, key: SecretKey, version: string, timeoutMs: number, stateDir: string): HttpClient {
  const { io } = deps;
  if (key.value === null) throw keyError(key.info);
  const budget = sharedBudget(stateDir, key, io);
  return deps.createClient({
    key: key.value,
    apiVersion: version,
    userAgent: userAgent(),
    timeoutMs,
    maxRetries: integerEnv(io.env, 'CLERK_BAPI_MAX_RETRIES', 3),
    retryDelayMs: integerEnv(io.env, 'CLERK_BAPI_RETRY_DELAY_MS', 500),
    maxRetryAfterMs: 60_000,
    // CLERK_BAPI_MAX_RESPONSE_MB: the largest answer read into memory.
    maxResponseBytes: integerEnv(io.env, 'CLERK_BAPI_MAX_RESPONSE_MB', DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024,
    onRetry: (message) => notice(io.stderr, `bapi-curl: ${message}`),
    ...(budget ? { beforeAttempt: () => budget.acquire(), onRateLimited: (ms: number) => budget.pause(ms) } : {}),
  });
}

/**
 * The instance's rate-limit budget, shared by every process with this key; null when the state
 * directory cannot hold it (a read then goes without, as before).
 */
function sharedBudget(stateDir: string, key: SecretKey, io: IO): Governor | null {
  const limit = rateLimitFor(io.env, key.info.kind);
  if (key.info.fingerprint === null) return null;
  try {
    return governor(stateDir, key.info.fingerprint, limit, {
      onWait: (ms) => notice(io.stderr, `bapi-curl: waiting ${(ms / 1000).toFixed(1)}s for the rate limit (${limit.requests} per ${limit.windowMs / 1000}s, ${RATE_LIMIT_VARIABLE})`),
      onWarning: (message) => writeLine(io.stderr, `bapi-curl: warning: ${message}`),
    });
  } catch {
    return null;
  }
}

/** The state directory, made private, or a clear error naming it: checked before a write is sent. */
export function usableStateDir(stateDir: string): void {
  try {
    ensurePrivateDir(stateDir);
    accessSync(stateDir, constants.W_OK);
  } catch (error) {
    if (error instanceof ToolkitError) throw new StateDirUnusableError(`${error.message}; nothing was sent`, { hints: error.hints });
    throw new StateDirUnusableError(`the state directory ${stateDir} cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was sent`, {
      hints: [`Set ${STATE_DIR_VARIABLE} to a writable directory of your own.`],
    });
  }
}
