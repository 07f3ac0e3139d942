/**
 * Pure: builds a resource's status from its evaluation, how the apply step left it and the
 * status written before. `lastTransitionTime` is carried over unless the condition's status flips,
 * so a steady state produces byte-identical status files.
 */
import type { Issue, IssueCode } from '../model/issues.js';
import type { ManifestFallback } from '../model/manifest.js';
import type { Evaluation } from './evaluate.js';
import type {
  CertificateStatus,
  Condition,
  ConditionStatus,
  ConditionType,
  ProgramState,
  ResourceStatus,
  RouteStatus,
} from './status-types.js';
import { noHealthyTargetsMessage } from './upstream-health.js';

export interface StatusInput {
  readonly evaluation: Evaluation;
  readonly program: ProgramState;
  /** Ingresses: the routes as served. */
  readonly routes: readonly RouteStatus[] | undefined;
  /** Ingresses with TLS rules: what the local listener serves for each TLS hostname. */
  readonly certificates: readonly CertificateStatus[] | undefined;
  readonly previous: ResourceStatus | undefined;
  /** The node writing the status (NODE_NAME); undefined outside `run`. */
  readonly node?: string;
  /** RFC 3339 timestamp used for conditions that flip now. */
  readonly now: string;
}

const REJECTION_REASONS: Readonly<Record<IssueCode, string>> = {
  invalid_request: 'Invalid',
  already_exists: 'NameConflict',
  hostname_in_use: 'HostnameConflict',
  instance_not_found: 'InstanceNotFound',
  domain_not_allowed: 'DomainNotAllowed',
  tls_not_configured: 'TLSNotConfigured',
  unreadable_file: 'Unreadable',
};

/** The reasons of a resource that lost its name or a hostname to another file (the conflict model in claims.ts). */
export const CONFLICT_REASONS: ReadonlySet<string> = new Set([REJECTION_REASONS.already_exists, REJECTION_REASONS.hostname_in_use]);

export function buildStatus(input: StatusInput): ResourceStatus {
  const { evaluation } = input;
  const manifest = evaluation.manifest;
  const resource = manifest.resource;
  // A last valid version standing in (reconciler/last-valid.ts): the current file's problems are reported, the old version served.
  const fallback = manifest.fallback;
  const reported = fallback?.issues ?? evaluation.issues;
  const blocking = reported.filter((i) => i.code !== 'instance_not_found');
  const unresolved = evaluation.issues.filter((i) => i.code === 'instance_not_found');
  const program: ProgramState = fallback !== undefined && evaluation.accepted && input.program.status === 'True' ? lastValidProgram(fallback) : input.program;

  const accepted: Draft = evaluation.accepted && fallback === undefined
    ? { status: 'True', reason: 'Accepted', message: 'The manifest is valid and holds its names and hostnames.' }
    : { status: 'False', reason: REJECTION_REASONS[blocking[0]?.code ?? 'invalid_request'], message: summarize(blocking) };
  const resolvedRefs: Draft = !evaluation.accepted
    ? { status: 'Unknown', reason: 'NotAccepted', message: 'References are checked once the manifest is accepted.' }
    : unresolved.length > 0
      ? { status: 'False', reason: 'InstanceNotFound', message: summarize(unresolved) }
      : { status: 'True', reason: 'ResolvedRefs', message: 'Every referenced instance is declared.' };
  const drafts: [ConditionType, Draft][] = [
    ['Accepted', accepted],
    ['ResolvedRefs', resolvedRefs],
    ['Programmed', program],
  ];
  if (input.certificates !== undefined) drafts.push(['CertificateReady', certificateCondition(input.certificates, evaluation.accepted)]);
  const firstNotTrue = drafts.find(([, d]) => d.status !== 'True');
  // Served as asked, yet a rule whose every target fails Caddy's health checks answers only 503.
  const noHealthy = firstNotTrue === undefined ? noHealthyTargetsMessage(input.routes) : undefined;
  drafts.push([
    'Ready',
    firstNotTrue !== undefined
      ? { status: firstNotTrue[1].status === 'Unknown' ? 'Unknown' : 'False', reason: firstNotTrue[1].reason, message: `${firstNotTrue[0]}: ${firstNotTrue[1].message}` }
      : noHealthy !== undefined
        ? { status: 'False', reason: 'NoHealthyTargets', message: noHealthy }
        : { status: 'True', reason: 'Ready', message: readyMessage(resource?.kind) },
  ]);

  const status: ResourceStatus = {
    kind: resource?.kind ?? manifest.kind ?? 'Unknown',
    name: resource?.name ?? manifest.name,
    id: resource?.id ?? '',
    file: manifest.file,
    observedGeneration: manifest.generation,
    ...(input.node === undefined ? {} : { node: input.node }),
    conditions: drafts.map(([type, draft]) => condition(type, draft, input.previous, input.now)),
    errors: [...reported].sort(compareIssues),
    ...(input.routes === undefined ? {} : { routes: input.routes }),
    ...(input.certificates === undefined ? {} : { certificates: input.certificates }),
  };
  return status;
}

type Draft = Omit<Condition, 'type' | 'lastTransitionTime'>;

function lastValidProgram(fallback: ManifestFallback): ProgramState {
  const since = new Date(fallback.acceptedAt).toISOString();
  const message = `Caddy serves the last valid version of this file (observedGeneration ${fallback.servedGeneration}, accepted ${since}): the file as it is now is not valid (see Accepted and errors). Fix the file to replace it; delete the file to stop serving it.`;
  return { status: 'True', reason: 'LastValidVersion', message };
}

function condition(type: ConditionType, draft: Draft, previous: ResourceStatus | undefined, now: string): Condition {
  const before = previous?.conditions.find((c) => c.type === type);
  const lastTransitionTime = before !== undefined && before.status === draft.status ? before.lastTransitionTime : now;
  return { type, status: draft.status, reason: draft.reason, message: draft.message, lastTransitionTime };
}

function certificateCondition(certificates: readonly CertificateStatus[], accepted: boolean): Draft {
  if (!accepted) return { status: 'Unknown', reason: 'NotAccepted', message: 'Certificates are requested once the manifest is accepted.' };
  const pending = certificates.filter((c) => !c.served);
  if (pending.length === 0) {
    return { status: 'True', reason: 'CertificateServed', message: 'Every TLS hostname is served with a valid certificate.' };
  }
  const status: ConditionStatus = 'False';
  return { status, reason: 'CertificatePending', message: pending.map((c) => `${c.hostname}: ${c.message}`).join('; ') };
}

function summarize(issues: readonly Issue[]): string {
  if (issues.length === 0) return 'The manifest is not valid.';
  const first = `${issues[0]!.path || '(file)'}: ${issues[0]!.message}`;
  return issues.length === 1 ? first : `${first} (and ${issues.length - 1} more; see errors)`;
}

function readyMessage(kind: string | undefined): string {
  return kind === 'Instance' ? 'The instance is answered by the instance DNS.' : 'Traffic for every rule is served.';
}

function compareIssues(a: Issue, b: Issue): number {
  return a.path.localeCompare(b.path) || a.code.localeCompare(b.code) || a.message.localeCompare(b.message);
}

/** The time an accepted resource has held its claims, read from its previous status (for conflict precedence). */
export function acceptedSinceOf(status: ResourceStatus | undefined): number | undefined {
  const c = status?.conditions.find((x) => x.type === 'Accepted');
  if (c?.status !== 'True') return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isFinite(t) ? t : undefined;
}
