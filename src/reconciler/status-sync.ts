/**
 * Keeps every status file in line with the last evaluation and apply. Builds a status only when
 * something it depends on changed (10,000 unchanged statuses cost a string compare each), and
 * writes it only when its bytes differ from the file.
 */
import { stableStringify } from '../model/canonical.js';
import { fastHashOf } from '../model/ids.js';
import type { Manifest } from '../model/manifest.js';
import type { Ingress } from '../model/resource.js';
import type { Logger } from '../model/logger.js';
import type { RenderSettings } from '../model/settings.js';
import type { EvaluatedSet, Evaluation } from './evaluate.js';
import { healthDialsOf, indexInstances, routesOf, type InstanceIndex } from './routes-status.js';
import { acceptedSinceOf, buildStatus } from './status.js';
import type { CertificateStatus, ProgramState, ResourceStatus } from './status-types.js';
import type { StatusWriter } from './status-writer.js';
import { isHealthChecked, NO_HEALTH, type UpstreamHealth } from './upstream-health.js';

export const NOT_ACCEPTED: ProgramState = { status: 'False', reason: 'NotAccepted', message: 'Not applied: the manifest is not accepted (see the Accepted condition).' };
const YIELD_EVERY = 100;
const PENDING: ProgramState = { status: 'Unknown', reason: 'Pending', message: 'Waiting for the first reconcile with Caddy.' };

/** The outcome of `StatusSync.write`. */
export interface StatusPass {
  /** Files whose content changed on disk. */
  readonly written: number;
  /** False when it paused before every status was current. */
  readonly complete: boolean;
}

/** What a status without certificates is built from (besides the clock). */
interface StatusInputs {
  readonly evaluation: Evaluation;
  readonly state: ProgramState;
  readonly instancesKey: string;
  /** Caddy's verdicts on the targets of its health-checked rules, one character each ('' without such rules). */
  readonly health: string;
}

function sameInputs(a: StatusInputs | undefined, b: StatusInputs): boolean {
  return (
    a !== undefined &&
    a.evaluation === b.evaluation &&
    a.instancesKey === b.instancesKey &&
    a.health === b.health &&
    a.state.status === b.state.status &&
    a.state.reason === b.state.reason &&
    a.state.message === b.state.message
  );
}

export class StatusSync {
  readonly #writer: StatusWriter;
  readonly #settings: RenderSettings;
  readonly #isKnown: (file: string) => boolean;
  readonly #node: string | undefined;
  readonly #logger: Logger | undefined;
  #warnedForeign = false;
  readonly #statuses = new Map<string, ResourceStatus>();
  readonly #keys = new Map<string, string>();
  /** What each status in `#keys` was built from, for the identity check that skips building the key. */
  readonly #inputs = new Map<string, StatusInputs>();
  /** The dials of each ingress's health-checked targets, for the evaluation and instances they were derived from. */
  readonly #dials = new Map<string, { readonly evaluation: Evaluation; readonly instancesKey: string; readonly dials: readonly string[] }>();

  /**
   * `isKnown` tells whether a manifest still exists: a status is never written for one that is gone.
   * `node` (NODE_NAME) is written into every status when given; `logger` hears, once, of a status
   * file another node wrote (two nodes sharing one STATUS_DIR overwrite each other's statuses).
   */
  constructor(writer: StatusWriter, settings: RenderSettings, isKnown: (file: string) => boolean, fleet: { readonly node?: string; readonly logger?: Logger } = {}) {
    this.#writer = writer;
    this.#settings = settings;
    this.#isKnown = isKnown;
    this.#node = fleet.node;
    this.#logger = fleet.logger;
  }

  get(file: string): ResourceStatus | undefined {
    return this.#statuses.get(file);
  }

  /**
   * Reads a manifest's status file the first time the manifest is seen, so conditions keep their
   * transition times across restarts. Resolves with when the manifest was accepted, if it was.
   */
  async adopt(file: string): Promise<number | undefined> {
    if (this.#statuses.has(file)) return undefined;
    const onDisk = await this.#writer.read(file);
    if (onDisk === undefined || onDisk.file !== file) return undefined;
    if (!this.#warnedForeign && this.#node !== undefined && onDisk.node !== undefined && onDisk.node !== this.#node) {
      this.#warnedForeign = true;
      this.#logger?.warn(`the status of ${file} was written by node ${onDisk.node}, not this node (${this.#node}): if both run, they overwrite each other's status files. Give each node its own STATUS_DIR (or, after renaming this node, ignore this once)`, { file, writtenBy: onDisk.node, node: this.#node });
    }
    this.#statuses.set(file, onDisk);
    return acceptedSinceOf(onDisk);
  }

  /**
   * True when a status this sync wrote is no longer on disk (the manifest's directory was swapped
   * under it: a git-sync worktree, a ConfigMap's `..data`); it is then rebuilt and written by the
   * next pass. A stat per call: callers ask only for manifests they just read.
   */
  lost(file: string): boolean {
    if (!this.#keys.has(file) || this.#writer.present(file)) return false;
    this.#keys.delete(file);
    this.#inputs.delete(file);
    this.#dials.delete(file);
    return true;
  }

  async forget(file: string): Promise<void> {
    this.#statuses.delete(file);
    this.#keys.delete(file);
    this.#inputs.delete(file);
    this.#dials.delete(file);
    await this.#writer.remove(file);
  }

  /**
   * Rebuilds and writes what changed. Every `YIELD_EVERY` files it lets other work run and asks
   * `pause`: when that says yes, it stops there (`complete: false`); a later call picks up where it
   * stopped, since what was written is remembered. `health` is Caddy's verdict per dialled
   * upstream: only ingresses with health-checked rules read it, by their targets' dials (cached).
   */
  async write(
    evaluated: EvaluatedSet,
    program: ReadonlyMap<string, ProgramState>,
    certificates: ReadonlyMap<string, CertificateStatus>,
    nowMs: number,
    pause: () => boolean = () => false,
    health: UpstreamHealth = NO_HEALTH,
  ): Promise<StatusPass> {
    const instances = indexInstances(evaluated.instances);
    const instancesKey = fastHashOf(stableStringify(evaluated.instances));
    const now = new Date(nowMs).toISOString();
    let written = 0;
    let built = 0;
    for (const [file, evaluation] of evaluated.byFile) {
      if (!this.#isKnown(file)) continue;
      const resource = evaluation.manifest.resource;
      const state = program.get(file) ?? (evaluation.accepted ? PENDING : NOT_ACCEPTED);
      const ingress = resource?.kind === 'Ingress' && evaluation.accepted ? resource : undefined;
      const certs = ingress === undefined ? undefined : this.#certificatesOf(ingress, certificates);
      const signature = ingress === undefined ? '' : this.#healthOf(file, ingress, evaluation, instances, instancesKey, health);
      const inputs: StatusInputs = { evaluation, state, instancesKey: ingress === undefined ? '' : instancesKey, health: signature };
      // The evaluator hands back the same Evaluation object for a manifest whose judgement did not
      // change: with the same program state, its status is what was last written. No key to build.
      if (certs === undefined && sameInputs(this.#inputs.get(file), inputs)) continue;
      // Hashed: at 100,000 manifests the keys themselves (ropes of a dozen parts each) held ~60 MB.
      const key = fastHashOf(`${evaluation.manifest.generation}|${evaluation.accepted}|${stableStringify(evaluation.issues)}|${state.status}|${state.reason}|${state.message}|${ingress === undefined ? '' : instancesKey}|${certs === undefined ? '' : stableStringify(certs)}|${signature}`);
      if (this.#keys.get(file) !== key) {
        // Writes are synchronous (see status-writer.ts): let other work run between batches.
        if (built > 0 && built % YIELD_EVERY === 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (pause()) return { written, complete: false };
          if (!this.#isKnown(file)) continue;
        }
        built++;
        const status = buildStatus({
          evaluation,
          program: state,
          routes: ingress === undefined ? undefined : routesOf(ingress, instances, this.#settings, health),
          certificates: certs,
          previous: this.#statuses.get(file),
          ...(this.#node === undefined ? {} : { node: this.#node }),
          now,
        });
        this.#statuses.set(file, status);
        if (await this.#writer.write(file, status)) written++;
        // Remembered only once on disk: a failed write is tried again by the next pass.
        this.#keys.set(file, key);
      }
      if (certs === undefined) this.#inputs.set(file, inputs);
      else this.#inputs.delete(file);
      // The manifest may have been deleted while this status was being written: do not leave it behind.
      if (!this.#isKnown(file)) await this.forget(file);
    }
    return { written, complete: true };
  }

  /** One character per health-checked target: `1` healthy, `0` unhealthy, `u` unknown ('' without such rules). */
  #healthOf(file: string, ingress: Ingress, evaluation: Evaluation, instances: InstanceIndex, instancesKey: string, health: UpstreamHealth): string {
    // Most ingresses have no health checks: nothing cached for them (100,000 of them would hold ~10 MB).
    if (!ingress.rules.some(isHealthChecked)) return '';
    let cached = this.#dials.get(file);
    if (cached === undefined || cached.evaluation !== evaluation || cached.instancesKey !== instancesKey) {
      cached = { evaluation, instancesKey, dials: healthDialsOf(ingress, instances, this.#settings) };
      this.#dials.set(file, cached);
    }
    let out = '';
    for (const dial of cached.dials) {
      const verdict = health.get(dial);
      out += verdict === undefined ? 'u' : verdict ? '1' : '0';
    }
    return out;
  }

  #certificatesOf(ingress: Ingress, probed: ReadonlyMap<string, CertificateStatus>): CertificateStatus[] | undefined {
    const tlsRules = ingress.rules.filter((r) => r.tls);
    if (tlsRules.length === 0 || this.#settings.tls.acme === undefined) return undefined;
    return tlsRules.map(
      (rule) => probed.get(`${rule.match.hostname}:${rule.match.port}`) ?? { hostname: rule.match.hostname, served: false, message: 'not checked yet' },
    );
  }
}

/** How the apply step left an accepted resource that Caddy did not reject. */
export function programmedState(manifest: Manifest, settings: RenderSettings): ProgramState {
  const resource = manifest.resource;
  if (resource?.kind !== 'Instance') return { status: 'True', reason: 'Programmed', message: 'Caddy serves every rule of this ingress.' };
  const answer = `The instance DNS answers ${resource.name}.${settings.dnsZone} and ${resource.id}.${settings.dnsZone} with ${resource.address}`;
  return settings.upstreamMode === 'static'
    ? { status: 'True', reason: 'Programmed', message: `Caddy dials ${resource.address} for this instance. ${answer}.` }
    : { status: 'True', reason: 'Programmed', message: `${answer}.` };
}
