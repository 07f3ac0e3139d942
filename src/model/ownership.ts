/**
 * Names and ids that mark Caddy config as ingressd's own. Anything else in Caddy is left alone.
 */
export const SERVER_PREFIX = 'ingress-';
export const ID_PREFIX = 'ingressd';

export function serverName(port: number): string {
  return `${SERVER_PREFIX}${port}`;
}

export function isOwnedServerName(name: string): boolean {
  return name.startsWith(SERVER_PREFIX);
}

export function isOwnedId(id: unknown): boolean {
  return typeof id === 'string' && (id === ID_PREFIX || id.startsWith(`${ID_PREFIX}.`));
}
