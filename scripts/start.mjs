#!/usr/bin/env node
// `npm start`: from a fresh clone to a running controller on manifests/examples.
// Installs what is missing (npm packages, Debian's caddy when running as root), builds, starts two
// demo backends for the examples, then runs `ingressd run` with defaults that need no root.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) run('npm', ['ci', '--no-audit', '--no-fund']);
const caddyBinary = process.env.CADDY_BINARY ?? 'caddy';
if (!has(caddyBinary)) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log('Caddy is missing: installing Debian\'s caddy package');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'caddy']);
  } else {
    console.error('Caddy is not installed. Install it (sudo apt-get install caddy) or set CADDY_BINARY, then run npm start again.');
    process.exit(1);
  }
}
run('npm', ['run', '--silent', 'build']);

// Demo backends the example instances point at (127.0.0.1:8081 and :8082).
for (const [port, name] of [[8081, 'web'], [8082, 'api']]) {
  createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from the ${name} demo backend (${req.headers.host}${req.url})\n`);
  })
    .on('error', () => console.log(`demo backend ${name}: port ${port} is busy; using whatever listens there`))
    .listen(port, '127.0.0.1');
}

const env = {
  DATA_DIR: join(root, '.ingressd'),
  CADDY_LISTEN_ADDRESS: '127.0.0.1',
  ...process.env,
};
console.log(`
ingressd is starting on manifests/examples (state in ${env.DATA_DIR}). Try:
  curl -H 'Host: web.localhost' http://127.0.0.1:8080/
  curl -H 'Host: api.localhost' http://127.0.0.1:8080/
  curl -H 'Host: web.apps.localhost' http://127.0.0.1:8080/
  curl -H 'Host: shop.localhost' http://127.0.0.1:8080/api/x   # path rule: both backends in turn, /api stripped
  cat manifests/examples/*.status.json
Stop with Ctrl-C (Caddy and the instance DNS keep running; stop them with CADDY_STOP_ON_SHUTDOWN=true).
`);
const child = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', '--dir', join(root, 'manifests/examples'), ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
