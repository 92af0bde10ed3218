import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { referenceConfig, type LoadedConfig } from '../lib/config/load.js';
import { ComposeResolver } from '../lib/compose/resolver.js';
import { LOKI_GATEWAY_USER } from '../lib/configs/caddyfile.js';
import type { Caddy } from '../lib/services/caddy.js';
import { render } from '../lib/synth.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { fixtureNames, loadFixture } from './support/render.js';
import { toolAvailable } from './support/tools.js';
import { freePorts, stopped } from './support/process.js';
import { caddyfileForInstalledCaddy } from './support/caddy.js';

/*
 * The rendered Caddyfile, served for real by caddy on loopback: unprivileged ports, Caddy's
 * internal CA, a stub HTTP server in place of each upstream address. Every site must reach the
 * upstream the model names, basic-auth sites must answer 401 without credentials and 200 with
 * them, and every response (errors included) must carry the security headers.
 */

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

/**
 * bcrypt of the password `test` at cost 4, bcrypt's minimum. `caddy hash-password` uses cost 14,
 * which costs Caddy about a second of CPU on every request it authenticates: that made this file
 * take most of a minute. The cost does not change what is tested (Caddy accepts any bcrypt cost).
 */
const TEST_PASSWORD_HASH = '$2a$04$pNmOPaaz5U1OAh6MMyTNVerDKfdErq3S8wdg4nxSk64jt1FJkuFLC';

const scratch = mkdtempSync(join(tmpdir(), 'platform-caddy-serve-'));
/**
 * Connections are kept and reused for the next request to the same site (the agent keys them by
 * port and server name): a TLS handshake costs both sides more CPU than the request it carries.
 */
const agent = new Agent({ keepAlive: true });
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  agent.destroy();
  // Each Caddy has exited before its storage folder goes (see stopped): it writes there until it does.
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** An upstream stand-in that answers every request with the address it stands in for. */
async function stub(address: string): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`upstream ${address} ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, server };
}

/**
 * Until Caddy has started: `caddy run` logs "serving initial configuration" once every listener is
 * bound (caddy/cmd/commandfuncs.go, cmdRun, after caddy.Load returns), and exits when one cannot
 * be. A connection to the port alone could reach another program that took the port first.
 */
async function waitForStart(caddy: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (caddy.exitCode !== null) throw new Error(`caddy exited (${caddy.exitCode}):\n${log()}`);
    if (log().includes('"serving initial configuration"')) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`caddy did not start:\n${log()}`);
}

/** Caddy's JSON log lines (one object a line); anything else it printed is left out. */
function logEntries(log: string): { logger?: string; msg?: string; identifier?: string; error?: string }[] {
  return log.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as { logger?: string; msg?: string; identifier?: string; error?: string }];
    } catch {
      return [];
    }
  });
}

/**
 * Whether every certificate Caddy began to issue as it started was issued: `lost` when one failed.
 * Caddy 2.6.2 cleans its certificate storage as it starts, beside the first issuance of each site's
 * certificate (modules/caddytls/tls.go, TLS.Start: Manage, then keepStorageClean), and certmagic
 * v0.17.2's cleaner deletes a site's folder that it lists while still empty (maintain.go,
 * deleteExpiredCerts, "Deleting ... because key is empty"): a folder an issuance has just made and
 * not yet written. That issuance fails ("saving assets: ... no such file or directory") and is
 * retried 60 s later; until then the site has no certificate and every handshake ends in a TLS
 * alert. A real server meets this once, on its first start with empty storage; here every start is
 * one, and the race is lost now and then on a loaded machine. Issuances that start after the
 * cleaner finished cannot lose it.
 */
function issuance(log: string): 'pending' | 'done' | 'lost' {
  const entries = logEntries(log).filter((e) => e.logger === 'tls.obtain' || e.msg === 'finished cleaning storage units');
  if (entries.some((e) => e.logger === 'tls.obtain' && e.msg === 'will retry')) return 'lost';
  const cleaned = entries.findIndex((e) => e.msg === 'finished cleaning storage units');
  if (cleaned < 0) return 'pending';
  const started = entries.slice(0, cleaned).filter((e) => e.msg === 'obtaining certificate').map((e) => e.identifier);
  const issued = new Set(entries.filter((e) => e.msg === 'certificate obtained successfully').map((e) => e.identifier));
  return started.every((name) => issued.has(name)) ? 'done' : 'pending';
}

async function waitForIssuance(caddy: ChildProcess, log: () => string): Promise<'done' | 'lost'> {
  for (let i = 0; i < 400; i++) {
    if (caddy.exitCode !== null) throw new Error(`caddy exited (${caddy.exitCode}):\n${log()}`);
    const state = issuance(log());
    if (state !== 'pending') return state;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`caddy did not finish issuing its certificates:\n${log()}`);
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * One request. Caddy opens its port before its internal CA has issued every certificate, and a
 * handshake in that moment fails: those are retried for a while.
 */
async function get(port: number, host: string, options: { auth?: string; method?: string; path?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(port, host, options);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= 200 || (code !== 'EPROTO' && code !== 'ECONNRESET')) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function once(port: number, host: string, options: { auth?: string; method?: string; path?: string; headers?: Record<string, string> }): Promise<Reply> {
  const ip = /^[\d.]+$/.test(host);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: ip ? '' : host,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        rejectUnauthorized: false,
        agent,
        auth: options.auth,
        headers: { host: ip ? `${host}:${port}` : host, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectSecurityHeaders(reply: Reply, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(reply.headers[name], `${what}: ${name}`).toBe(value);
  expect(reply.headers.server, `${what}: Server`).toBeUndefined();
}

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];

/** Start caddy on the rendered Caddyfile of `loaded`, upstreams replaced by stubs. */
async function serve(name: string, loaded: LoadedConfig) {
  const platform = buildReferencePlatform(loaded.config);
  const caddy = platform.service('caddy');
  if (!caddy) return undefined;
  const file = render(loaded, 'plain').files.find((f) => f.path.endsWith('/caddy/Caddyfile'));
  if (!file) throw new Error('no Caddyfile rendered');
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });

  const stubs = new Map<string, { port: number; server: Server }>();
  for (const match of file.content.matchAll(/reverse_proxy (\S+)/g)) {
    const address = match[1] as string;
    if (!stubs.has(address)) stubs.set(address, await stub(address));
  }
  const proxied = file.content.replace(/reverse_proxy (\S+)/g, (_, address: string) => `reverse_proxy 127.0.0.1:${stubs.get(address)?.port}`);
  const hash = TEST_PASSWORD_HASH;
  const hashes = Object.fromEntries([...proxied.matchAll(/\{\$([A-Z0-9_]+)\}/g)].map((m) => [m[1] as string, hash]));
  const env = { ...process.env, ...hashes, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };

  // A port the kernel said was free can be taken before Caddy binds it (by an outgoing connection,
  // or another test's server): a start that lost that race retries on other ports.
  for (let attempt = 1; ; attempt++) {
    const [httpPort, httpsPort, metricsPort, gatewayPort] = (await freePorts(4)) as [number, number, number, number];
    // Unprivileged ports, no admin endpoint (another test may hold 2019), Caddy's own CA, loopback only.
    let text = proxied.replace(/^\{\n/m, `{\n\thttp_port ${httpPort}\n\thttps_port ${httpsPort}\n\tadmin off\n\tskip_install_trust\n\tlocal_certs\n\tdefault_bind 127.0.0.1\n`);
    text = text.replace(/^http:\/\/:(\d+) \{/m, `http://127.0.0.1:${metricsPort} {`);
    // The Loki gateway listens on the node's address: here, loopback.
    text = text.replace(/^https:\/\/[\d.]+:\d+ \{/m, `https://127.0.0.1:${gatewayPort} {`);
    text = text.replace(/root \* \/srv\/(\S+)/g, (_, host: string) => {
      mkdirSync(join(dir, 'srv', host), { recursive: true });
      writeFileSync(join(dir, 'srv', host, 'index.html'), `static ${host}`);
      return `root * ${join(dir, 'srv', host)}`;
    });
    writeFileSync(join(dir, 'Caddyfile'), caddyfileForInstalledCaddy(text));

    let log = '';
    const child = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    cleanups.push(() => stopped(child));
    try {
      await waitForStart(child, () => log);
    } catch (err) {
      if (attempt < 5 && /address already in use/.test(log)) continue;
      throw err;
    }
    // A start whose storage cleaner deleted a certificate being issued (see issuance) starts again
    // on the same storage: the certificates issued are loaded from it, the lost one is issued anew.
    if ((await waitForIssuance(child, () => log)) === 'lost') {
      if (attempt >= 5) throw new Error(`caddy lost a certificate to its storage cleaner on ${attempt} starts:\n${log}`);
      await stopped(child);
      continue;
    }
    return { platform, caddy, httpsPort, gatewayPort, stubs, resolver: new ComposeResolver(caddy, caddy.homeNode), log: () => log, stop: () => stopped(child) };
  }
}

describe('a Caddy start that lost a certificate to its storage cleaner', () => {
  // Caddy's log of such a start, from a failed run of this file (2.6.2, certmagic v0.17.2), cut to the lines that matter.
  const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'info', ts: 1796073323.2, ...fields });
  const obtaining = (name: string) => line({ logger: 'tls.obtain', msg: 'obtaining certificate', identifier: name });
  const obtained = (name: string) => line({ logger: 'tls.obtain', msg: 'certificate obtained successfully', identifier: name });
  const cleaning = line({ logger: 'tls', msg: 'cleaning storage unit', description: 'FileStorage:/srv/caddy' });
  const deleted = line({ msg: '[INFO] Deleting certificates/local/ntfy.example.com because key is empty' });
  const cleaned = line({ logger: 'tls', msg: 'finished cleaning storage units' });
  const retry = JSON.stringify({
    level: 'error',
    logger: 'tls.obtain',
    msg: 'will retry',
    error: '[ntfy.example.com] Obtain: saving assets: open /srv/caddy/certificates/local/ntfy.example.com/ntfy.example.com.key: no such file or directory',
    attempt: 1,
    retrying_in: 60,
  });
  const log = (...lines: string[]) => `${lines.join('\n')}\n`;

  it('is recognised, so that it starts again, and a start whose certificates were all issued is not', () => {
    expect(issuance(log(obtaining('s3.example.com'), obtaining('ntfy.example.com'), cleaning, obtained('s3.example.com'), deleted, cleaned, retry))).toBe('lost');
    expect(issuance(log(obtaining('s3.example.com'), obtaining('ntfy.example.com'), cleaning, obtained('s3.example.com'), obtained('ntfy.example.com'), cleaned))).toBe('done');
    // Until the cleaner is done, and every issuance begun before it ended has ended, the outcome is open.
    expect(issuance(log(obtaining('s3.example.com'), cleaning, obtained('s3.example.com')))).toBe('pending');
    expect(issuance(log(obtaining('s3.example.com'), obtaining('ntfy.example.com'), cleaning, deleted, cleaned, obtained('s3.example.com')))).toBe('pending');
    // Lines that are not Caddy's JSON (a panic's text) are skipped.
    expect(issuance(log('panic: something', obtaining('s3.example.com'), cleaned, obtained('s3.example.com')))).toBe('done');
  });
});

describe.each(configs)('$name: the rendered Caddyfile, served', ({ name, load }) => {
  it.runIf(toolAvailable('caddy'))('every site reaches its upstream, auth sites answer 401 then 200, every response has the headers', async () => {
    const served = await serve(name.replace(/\W+/g, '-'), load());
    if (!served) return;
    const { platform, caddy, httpsPort, gatewayPort, stubs, resolver, log, stop } = served;
    onTestFailed(() => console.error(`caddy's log (${name}):\n${log().split('\n').slice(-60).join('\n')}`));
    const user = platform.config.basicAuthUser;
    for (const route of platform.routes) {
      const host = platform.fqdn(route.host);
      const expected = route.service && route.port !== undefined ? (() => { const a = resolver.address(route.service, route.port); return `upstream ${a.host}:${a.port} GET /`; })() : `static ${route.host}`;
      if (route.auth) {
        const denied = await get(httpsPort, host);
        expect(denied.status, `${host} without credentials`).toBe(401);
        expect(denied.headers['www-authenticate'], host).toMatch(/^Basic /);
        expect(denied.body).not.toContain('upstream');
        expectSecurityHeaders(denied, `${host} 401`);
        const wrong = await get(httpsPort, host, { auth: `${user}:wrong` });
        expect(wrong.status, `${host} with a wrong password`).toBe(401);
        expectSecurityHeaders(wrong, `${host} 401 (wrong password)`);
      }
      const ok = await get(httpsPort, host, route.auth ? { auth: `${user}:test` } : {});
      expect(ok.status, host).toBe(200);
      expect(ok.body, host).toBe(expected);
      expectSecurityHeaders(ok, `${host} 200`);
      for (const origin of route.cors) {
        const preflight = await get(httpsPort, host, { method: 'OPTIONS', headers: { origin: `https://${platform.fqdn(origin)}` } });
        expect(preflight.status, `${host} preflight`).toBe(route.auth ? 401 : 204);
        expectSecurityHeaders(preflight, `${host} preflight`);
      }
    }
    // Loki's push gateway for Alloy on the other nodes: basic auth, the push path only.
    const gateway = (caddy as Caddy).lokiGateway;
    if (name === 'reference') expect(gateway, 'the reference ships logs from rtx through the gateway').toBeDefined();
    if (gateway) {
      const loki = resolver.address(gateway.loki, 3100);
      const push = { method: 'POST', path: '/loki/api/v1/push' };
      const denied = await get(gatewayPort, '127.0.0.1', push);
      expect(denied.status, 'push without credentials').toBe(401);
      expectSecurityHeaders(denied, 'gateway 401');
      const pushed = await get(gatewayPort, '127.0.0.1', { ...push, auth: `${LOKI_GATEWAY_USER}:test` });
      expect(pushed.status).toBe(200);
      expect(pushed.body).toBe(`upstream ${loki.host}:${loki.port} POST /loki/api/v1/push`);
      const query = await get(gatewayPort, '127.0.0.1', { path: '/loki/api/v1/query_range?query=%7Bnode%3D%22rtx%22%7D', auth: `${LOKI_GATEWAY_USER}:test` });
      expect(query.status, 'queries are not served to the LAN').toBe(404);
      expectSecurityHeaders(query, 'gateway 404');
    }
    // An upstream that is down: Caddy's own 502 carries the headers too.
    const proxied = platform.routes.find((r) => r.service && r.port !== undefined && !r.auth);
    if (proxied?.service && proxied.port !== undefined) {
      const a = resolver.address(proxied.service, proxied.port);
      const upstream = stubs.get(`${a.host}:${a.port}`);
      await new Promise<void>((resolve) => { upstream?.server.close(() => resolve()); upstream?.server.closeAllConnections(); });
      const down = await get(httpsPort, platform.fqdn(proxied.host));
      expect(down.status).toBe(502);
      expectSecurityHeaders(down, `${proxied.host} 502`);
    }
    // Done with this Caddy: it does not idle beside the next config's.
    await stop();
  }, 180_000);
});
