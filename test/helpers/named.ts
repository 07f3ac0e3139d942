/**
 * Debian's bind9 (`named`) as the authoritative server of a test zone on a free loopback port, in
 * the foreground (`-g`), with everything it writes (zone journal, pid, session key) in a temp dir of
 * its own. The zone accepts RFC 2136 updates signed with a TSIG key made by `tsig-keygen`: what
 * Caddy's rfc2136 DNS provider sends for dns-01, and what Pebble then reads back.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireExecutable } from './pebble.js';
import { freePort, removeDir, tempDir, waitFor } from './processes.js';

export interface Named {
  /** `127.0.0.1:<port>`, for RFC2136_SERVER, DNS_RESOLVERS and Pebble's -dnsserver. */
  readonly address: string;
  readonly port: number;
  readonly zone: string;
  readonly keyName: string;
  readonly keyAlg: string;
  /** The base64 TSIG secret. */
  readonly secret: string;
  /** TXT records named holds now at `name` (an absolute name without the trailing dot). */
  txt(name: string): string[];
  /** named's log so far (its stderr). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts named serving `zone` (SOA, NS ns.<zone> → 127.0.0.1); resolves once it answers the SOA. */
export async function startNamed(zone: string, keyName = 'ingressd-test'): Promise<Named> {
  requireExecutable('named', 'apt-get install bind9');
  requireExecutable('tsig-keygen', 'apt-get install bind9');
  requireExecutable('dig', 'apt-get install bind9-dnsutils');
  const dir = await tempDir('named');
  const port = await freePort();
  const keyAlg = 'hmac-sha256';
  const keyConf = execFileSync('tsig-keygen', ['-a', keyAlg, keyName], { encoding: 'utf8' });
  const secret = /secret "([^"]+)"/.exec(keyConf)?.[1];
  if (secret === undefined) throw new Error(`tsig-keygen printed no secret:\n${keyConf}`);
  await writeFile(join(dir, 'key.conf'), keyConf);
  await writeFile(join(dir, 'zone.db'), [
    '$TTL 60',
    `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 600 60`,
    `@ IN NS ns.${zone}.`,
    'ns IN A 127.0.0.1',
    '',
  ].join('\n'));
  // No rndc control channel (it would take port 953, shared by every named on the machine), no
  // recursion: an authoritative server only, as a zone's primary is.
  await writeFile(join(dir, 'named.conf'), `
options {
  directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  pid-file "${join(dir, 'named.pid')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  recursion no;
  dnssec-validation no;
  allow-query { any; };
};
controls { };
include "${join(dir, 'key.conf')}";
zone "${zone}" { type primary; file "${join(dir, 'zone.db')}"; allow-update { key "${keyName}"; }; };
`);
  const logFile = join(dir, 'named.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const log = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await removeDir(dir);
  };
  const dig = (name: string, type: string): string[] =>
    execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=2', '+tries=1', type, name], { encoding: 'utf8' }).split('\n').filter((l) => l.length > 0);
  try {
    await waitFor(`named to serve ${zone}`, () => dig(zone, 'SOA').length > 0, 15_000, 200);
  } catch (err) {
    const text = await log();
    await stop();
    throw new Error(`${String(err)}\nnamed log:\n${text}`);
  }
  return {
    address: `127.0.0.1:${port}`,
    port,
    zone,
    keyName,
    keyAlg,
    secret,
    txt: (name) => dig(name, 'TXT').map((l) => l.replace(/^"|"$/g, '')),
    log,
    stop,
  };
}
