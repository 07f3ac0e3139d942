/**
 * Waiting until the instance DNS answers what the registry now says: the controller writes the
 * registry file, the DNS process loads it a few milliseconds later (fs.watch, or its poll), and a
 * Caddy config sent in between would send requests for a new instance to a name that does not
 * resolve yet (a 502/503 right after a start or an instance change). The DNS process loads the
 * whole file at once, so one new record answering means all of them do.
 */
import { Resolver } from 'node:dns/promises';
import { isIPv6 } from 'node:net';

/**
 * Resolves true once the DNS server at `server:port` answers `fqdn` with `address` (A or AAAA by
 * its family), false after `timeoutMs` (never throws: a slow DNS must not stop a reconcile,
 * only delay it).
 */
export async function waitUntilAnswered(server: string, port: number, fqdn: string, address: string, timeoutMs: number): Promise<boolean> {
  const resolver = new Resolver({ timeout: 100, tries: 1 });
  resolver.setServers([isIPv6(server) ? `[${server}]:${port}` : `${server}:${port}`]);
  const deadline = Date.now() + timeoutMs;
  const expected = address.toLowerCase();
  for (;;) {
    const answers = await (isIPv6(address) ? resolver.resolve6(fqdn) : resolver.resolve4(fqdn)).catch((): string[] => []);
    if (answers.some((a) => a.toLowerCase() === expected)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
