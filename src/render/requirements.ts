/**
 * What a rule needs of the Caddy that serves it beyond Caddy's core, and which rules of an ingress
 * the Caddy in `settings.caddy` cannot serve. A rule that asks for something this Caddy lacks is
 * left out of the config (the ingress's other rules still render), and the reconciler reports it as
 * `Programmed=False` with `CaddyTooOld` or `CaddyModuleMissing`; every other rule keeps serving.
 * A rule whose policy needs a setting this node lacks (a fleet rate limit without CADDY_STORAGE)
 * is left out the same way, with `SharedStorageMissing`: served without it, it would do less than
 * it says (each node counting alone) while its status said Ready.
 *
 * Add a requirement here when render starts to use a module or a field that not every Caddy has.
 */
import { SINCE, unmetRequirement, type CaddyInfo, type CaddyRequirement } from '../model/caddy-version.js';
import { isPattern } from '../model/hostname.js';
import { isFleetScope } from '../model/rate-limit.js';
import type { Ingress, Rule } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';

/** The Caddy features rendering `rule` uses that not every Caddy has. */
export function ruleRequirements(rule: Rule, settings: RenderSettings): CaddyRequirement[] {
  const out: CaddyRequirement[] = [];
  if (rule.load_balancing?.policy === 'weighted_round_robin') {
    out.push({ kind: 'version', min: SINCE.weightedRoundRobin, feature: 'load_balancing.policy weighted_round_robin' });
  }
  if (rule.max_request_body !== undefined) {
    out.push({ kind: 'version', min: SINCE.requestBody413, feature: 'max_request_body (older Caddy answers an oversized body with 502, not 413)' });
  }
  if (rule.rate_limit !== undefined) {
    out.push({
      kind: 'module',
      module: 'http.handlers.rate_limit',
      feature: 'rate_limit',
      hint: '`npm run build:caddy` builds a Caddy with it (github.com/mholt/caddy-ratelimit, pinned in caddy/modules.pin; Debian\'s caddy package has none)',
    });
  }
  const acme = settings.tls.acme;
  if (rule.tls && acme?.dnsProvider !== undefined && (acme.challenge === 'dns-01' || isPattern(rule.match.hostname))) {
    const name = acme.dnsProvider.name;
    out.push({
      kind: 'module',
      module: `dns.providers.${name}`,
      feature: `solving ACME dns-01 challenges through ${name}`,
      hint: `\`npm run build:caddy\` builds a Caddy with it (or \`xcaddy build --with github.com/caddy-dns/${name}\`; Debian's caddy package has no DNS providers), or use ACME_CHALLENGE=http-01 or tls-alpn-01 for hostnames without patterns`,
    });
  }
  return out;
}

/** One rule `settings.caddy` cannot serve: its index in `ingress.rules` and why. */
export interface UnsupportedRule {
  readonly index: number;
  readonly reason: 'CaddyTooOld' | 'CaddyModuleMissing' | 'SharedStorageMissing';
  readonly message: string;
}

/** Why this node cannot do what `rule` asks of its settings, or undefined when it can. */
function unmetSetting(rule: Rule, settings: RenderSettings): Omit<UnsupportedRule, 'index'> | undefined {
  if (rule.rate_limit === undefined || !isFleetScope(rule.rate_limit) || settings.storage !== undefined) return undefined;
  return {
    reason: 'SharedStorageMissing',
    message:
      'rate_limit.scope fleet adds up the nodes\' counts through the Caddy storage they share, and CADDY_STORAGE is not set on this node (its Caddy keeps a storage of its own): set CADDY_STORAGE on every node to one storage they share (README "A fleet of nodes"), or use "scope": "node" for a limit per node',
  };
}

/**
 * The rules of `ingress` that `caddy` cannot serve, in rule order (empty for most ingresses).
 * A Caddy whose module list is unknown (empty) is trusted with every module: Caddy's own refusal,
 * isolated per ingress by the apply step, is then the safety net.
 */
export function unsupportedRules(ingress: Ingress, settings: RenderSettings): UnsupportedRule[] {
  const caddy: CaddyInfo = settings.caddy;
  const out: UnsupportedRule[] = [];
  ingress.rules.forEach((rule, index) => {
    for (const requirement of ruleRequirements(rule, settings)) {
      if (requirement.kind === 'module' && caddy.modules.length === 0) continue;
      const unmet = unmetRequirement(caddy, requirement);
      if (unmet === undefined) continue;
      out.push({ index, ...unmet });
      return;
    }
    const setting = unmetSetting(rule, settings);
    if (setting !== undefined) out.push({ index, ...setting });
  });
  return out;
}

/** Remembered per ingress object and settings object: an unchanged ingress keeps its identity, and so its cached render. */
const servableCache = new WeakMap<Ingress, { readonly settings: RenderSettings; readonly ingress: Ingress | undefined }>();

/**
 * `ingress` without the rules `settings.caddy` cannot serve: the same object when it can serve them
 * all, undefined when it can serve none.
 */
export function servableIngress(ingress: Ingress, settings: RenderSettings): Ingress | undefined {
  const cached = servableCache.get(ingress);
  if (cached !== undefined && cached.settings === settings) return cached.ingress;
  const unsupported = unsupportedRules(ingress, settings);
  const skip = new Set(unsupported.map((u) => u.index));
  const result = skip.size === 0 ? ingress : skip.size === ingress.rules.length ? undefined : { ...ingress, rules: ingress.rules.filter((_, i) => !skip.has(i)) };
  servableCache.set(ingress, { settings, ingress: result });
  return result;
}
