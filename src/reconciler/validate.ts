/**
 * File-local rules: everything that can be judged from one resource and the TLS settings alone.
 * Pure; never throws. Cross-file rules (names, hostnames held by other files, instance
 * references) are `evaluate`'s.
 */
import { isIP } from 'node:net';
import { checkHostname as checkHostnameSyntax, isPattern, parsePattern, templateCaptures } from '../model/hostname.js';
import { describePath, pathMatchOf, targetsOf, targetTokens } from '../model/routing.js';
import { validateLimits } from './validate-limits.js';
import { validateAuthPages } from './validate-auth-pages.js';
import { validatePolicies } from './validate-policies.js';
import { validateRouting } from './validate-routing.js';
import { ID_PATTERN } from '../model/ids.js';
import { issue, pointer, type Issue } from '../model/issues.js';
import { assertNever, type Ingress, type Instance, type Resource, type Rule } from '../model/resource.js';
import type { TlsSettings } from '../model/settings.js';
import { claimsOf, type RouteClaim } from './claims.js';
import { isDomainAllowed } from './tls-domains.js';

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const NAME_MAX_LENGTH = 63;
/** Literal text a pattern target may hold besides its captures (instance names are DNS labels). */
const TEMPLATE_TEXT = /^[a-zA-Z0-9-]*$/;

/** True for a valid resource name: 1-63 lowercase letters, digits and dashes, no dash at either end. */
export function isValidName(name: string): boolean {
  return name.length <= NAME_MAX_LENGTH && NAME_PATTERN.test(name);
}

/**
 * Every file-local problem of `resource`, each with a JSON pointer into its manifest file and a
 * message saying how to fix it; empty when the resource is valid on its own.
 *
 * Ingress: name; per rule hostname (literal, pattern, raw `*` rejected), each target (pattern
 * targets must use only the hostname's captures, literal targets none), ports, the routing fields
 * (paths, target/targets, weights, health checks: validate-routing.ts), `redirect_http` (needs
 * `tls`, must not sit on `tls.httpPort` itself), duplicate hostname+port inside the ingress
 * (and path; a redirect also occupies `tls.httpPort`), TLS and plain rules on one port, and for TLS
 * rules: ACME configured (`tls_not_configured`), hostname in TLS_ALLOWED_DOMAINS
 * (`domain_not_allowed`; patterns by their wildcard form) and dns-01 for patterns.
 * Instance: name and address.
 */
export function validateResource(resource: Resource, tls: TlsSettings): Issue[] {
  switch (resource.kind) {
    case 'Ingress':
      return validateIngress(resource, tls);
    case 'Instance':
      return validateInstance(resource);
    default:
      return assertNever(resource);
  }
}

function validateCommon(resource: Resource): Issue[] {
  const issues: Issue[] = [];
  if (resource.name.length === 0) {
    issues.push(issue('invalid_request', '/name', 'name is required; set "name" or name the file after the resource, such as my-api.json'));
  } else if (!isValidName(resource.name)) {
    issues.push(
      issue(
        'invalid_request',
        '/name',
        `name "${resource.name}" is invalid: name must be lowercase letters, digits, and dashes only; cannot start or end with a dash; at most ${NAME_MAX_LENGTH} characters (without "name" in the file, the file name is used)`,
      ),
    );
  }
  if (!ID_PATTERN.test(resource.id)) {
    issues.push(issue('invalid_request', '/id', `id "${resource.id}" must be 1-64 lowercase letters, digits and dashes; leave it out to derive one`));
  }
  return issues;
}

function validateInstance(instance: Instance): Issue[] {
  const issues = validateCommon(instance);
  if (isIP(instance.address) === 0) {
    issues.push(issue('invalid_request', '/address', `address "${instance.address}" must be an IPv4 or IPv6 address such as 10.100.0.10 or fd00::10`));
  }
  return issues;
}

function validateIngress(ingress: Ingress, tls: TlsSettings): Issue[] {
  const issues = validateCommon(ingress);
  if (ingress.rules.length === 0) {
    issues.push(issue('invalid_request', '/rules', 'at least one rule is required'));
  }
  ingress.rules.forEach((rule, i) => {
    issues.push(...validateRule(rule, i, tls));
  });
  issues.push(...validateAuthPages(ingress), ...checkSelfClashes(ingress, tls.httpPort));
  return issues;
}

function validateRule(rule: Rule, i: number, tls: TlsSettings): Issue[] {
  const at = (...tokens: string[]): string => pointer('rules', i, ...tokens);
  const issues = [...checkHostname(rule, at), ...validateRouting(rule, i), ...validatePolicies(rule, i), ...validateLimits(rule, i)];
  const ports: [string[], number][] = [[['match'], rule.match.port], ...targetsOf(rule).map((t, j): [string[], number] => [targetTokens(rule, j).map(String), t.port])];
  for (const [tokens, port] of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      issues.push(issue('invalid_request', at(...tokens, 'port'), `${tokens[0]}.port must be between 1 and 65535, got ${port}`));
    }
  }
  if (rule.redirect_http && !rule.tls) {
    issues.push(issue('invalid_request', at('redirect_http'), 'redirect_http requires tls to be enabled; set "tls": true or remove redirect_http'));
  }
  if (rule.redirect_http && rule.tls && rule.match.port === tls.httpPort) {
    issues.push(
      issue(
        'invalid_request',
        at('redirect_http'),
        `redirect_http listens on the HTTP port ${tls.httpPort}, the port this TLS rule serves, so it would redirect to itself; serve TLS on another port (such as 443) or remove redirect_http`,
      ),
    );
  }
  if (rule.tls) issues.push(...checkTls(rule, at, tls));
  return issues;
}

/** The hostname, then each target against it (templates only for patterns, over their captures). */
function checkHostname(rule: Rule, at: (...tokens: string[]) => string): Issue[] {
  const { hostname } = rule.match;
  const hostPath = at('match', 'hostname');
  const targets = (hostIssues: Issue[], pattern: HostKind | undefined): Issue[] => [
    ...hostIssues,
    ...targetsOf(rule).flatMap((t, j) => checkTarget(t.instance, at(...targetTokens(rule, j).map(String), 'instance'), pattern)),
  ];
  if (hostname.length === 0) return targets([issue('invalid_request', hostPath, 'hostname is required, such as api.example.com')], undefined);
  if (hostname.includes('*')) {
    return targets([issue('invalid_request', hostPath, 'wildcard hostnames are not supported, use pattern syntax like {instance}.example.com')], undefined);
  }
  if (!isPattern(hostname)) {
    const problem = checkHostnameSyntax(hostname);
    return targets(problem === undefined ? [] : [issue('invalid_request', hostPath, `invalid hostname "${hostname}": ${problem}`)], { literal: true });
  }
  const parsed = parsePattern(hostname);
  if (!parsed.ok) return targets([issue('invalid_request', hostPath, `invalid hostname pattern: ${parsed.message}`)], undefined);
  return targets([], { literal: false, captures: parsed.pattern.captures });
}

/** What a target is checked against: a literal hostname, a pattern's captures, or nothing (the hostname is broken). */
type HostKind = { readonly literal: true } | { readonly literal: false; readonly captures: readonly string[] };

function checkTarget(target: string, targetPath: string, host: HostKind | undefined): Issue[] {
  const issues: Issue[] = [];
  if (target.length === 0) issues.push(issue('invalid_request', targetPath, 'instance is required; name the Instance to send traffic to'));
  if (host === undefined) return issues;
  if (host.literal) {
    if (target.includes('{') || target.includes('}')) {
      issues.push(
        issue('invalid_request', targetPath, `target.instance "${target}" uses {captures}, which need a pattern hostname such as {instance}.example.com; name the Instance instead`),
      );
    }
    return issues;
  }
  if (target.length === 0) return issues;
  const used = templateCaptures(target);
  const known = host.captures;
  if (used.length === 0) {
    const example = `{${known[0] ?? 'instance'}}`;
    issues.push(issue('invalid_request', targetPath, `pattern hostname requires target.instance to reference a capture (e.g., ${example})`));
  }
  for (const name of used.filter((n) => !known.includes(n))) {
    issues.push(issue('invalid_request', targetPath, `target.instance references unknown capture {${name}}; the hostname captures ${known.map((k) => `{${k}}`).join(', ')}`));
  }
  if (!TEMPLATE_TEXT.test(target.replace(/\{[^{}]*\}/g, ''))) {
    issues.push(issue('invalid_request', targetPath, `target.instance "${target}" may hold only {captures}, letters, digits and dashes, such as {instance} or {instance}-web`));
  }
  return issues;
}

function checkTls(rule: Rule, at: (...tokens: string[]) => string, tls: TlsSettings): Issue[] {
  const issues: Issue[] = [];
  if (tls.acme === undefined) {
    issues.push(issue('tls_not_configured', at('tls'), `TLS requested but ACME is not configured: ${tls.acmeMissing}; configure ACME or set "tls": false`));
  }
  const { hostname } = rule.match;
  const pattern = isPattern(hostname) ? parsePattern(hostname) : undefined;
  if (hostname.length === 0 || hostname.includes('*') || pattern?.ok === false) return issues;
  const domain = pattern?.ok === true ? pattern.pattern.wildcard : hostname;
  if (!isDomainAllowed(domain, tls.allowedDomains)) {
    const message =
      tls.allowedDomains.length === 0
        ? `"${domain}" is not in TLS_ALLOWED_DOMAINS, which is empty; add it (or a wildcard covering it) to TLS_ALLOWED_DOMAINS`
        : `"${domain}" is not in TLS_ALLOWED_DOMAINS (allowed: ${tls.allowedDomains.join(', ')}); add it there or use a covered hostname`;
    issues.push(issue('domain_not_allowed', at('match', 'hostname'), message));
  }
  if (pattern !== undefined && tls.challenge !== 'dns-01') {
    issues.push(
      issue(
        'invalid_request',
        at('tls'),
        `a pattern hostname with tls needs a wildcard certificate (${domain}), which only the dns-01 challenge can obtain; set ACME_CHALLENGE=dns-01 with a DNS provider, or list literal hostnames`,
      ),
    );
  }
  return issues;
}

/** An ingress's hostname+port claims against each other: each slot once, each port in one mode (see claims.ts). */
function checkSelfClashes(ingress: Ingress, httpPort: number): Issue[] {
  const routes = claimsOf(ingress, httpPort).routes.filter((claim) => ingress.rules[claim.rule]!.match.hostname.length > 0);
  const issues: Issue[] = [];
  const held = new Map<string, number>();
  for (const claim of routes) {
    const first = held.get(claim.slot);
    if (first === undefined) {
      held.set(claim.slot, claim.rule);
      continue;
    }
    const how = claim.redirect ? ` (its redirect_http listens on ${claim.port})` : '';
    const rule = ingress.rules[claim.rule]!;
    const paths = pathMatchOf(rule) === undefined ? '' : ` and ${describePath(pathMatchOf(rule))}`;
    const message = `rule ${claim.rule} repeats hostname "${rule.match.hostname}"${paths} on port ${claim.port}${how}, already used by rule ${first} of this ingress; remove one of them or change the port or path`;
    issues.push(issue('invalid_request', pointer('rules', claim.rule, 'match', 'hostname'), message));
  }
  const modes = new Map<number, RouteClaim>();
  for (const claim of claimsOf(ingress, httpPort).routes) {
    const first = modes.get(claim.port);
    if (first === undefined) modes.set(claim.port, claim);
    else if (first.tls !== claim.tls) {
      const path = pointer('rules', claim.rule, claim.redirect ? 'redirect_http' : 'tls');
      issues.push(issue('invalid_request', path, portModeMessage(claim, claim.tls, `rule ${first.rule} of this ingress`)));
    }
  }
  return issues;
}

/** Message for a claim whose TLS mode (`tls`) differs from what `holder` already serves on its port. */
export function portModeMessage(claim: { readonly port: number; readonly redirect: boolean }, tls: boolean, holder: string): string {
  const theirs = tls ? 'plain HTTP' : 'TLS';
  const fix = claim.redirect
    ? 'remove redirect_http here or move the other rules off that port'
    : `use another port for this ${tls ? 'TLS' : 'plain HTTP'} rule`;
  const what = claim.redirect ? `this rule's redirect_http needs plain HTTP on port ${claim.port}, which` : `port ${claim.port}`;
  return `${what} already serves ${theirs} for ${holder}, and a port cannot mix TLS and plain HTTP; ${fix}`;
}
