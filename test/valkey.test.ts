import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/process.js';
import { inlineConfig, renderTree, type RenderedTree } from './support/render.js';
import { toolAvailable } from './support/tools.js';
import { readYaml } from './support/yaml.js';

/*
 * Valkey's password, checked by a real server speaking its protocol: Debian's redis-server (Valkey
 * 7.2 is a fork of Redis 7.2 with the same AUTH, --requirepass and CLI), started on 127.0.0.1 with
 * the rendered command line. The health check and the clients' URL are the rendered ones.
 */

const APP = { image: 'ghcr.io/example/api:1.0.0', port: 3000, connects: ['valkey'], healthPath: '/health' };
const CONFIG = { litellm: { cache: true }, apps: { api: APP } };
/** Any character reaches the server: the password is one argument of the command line. */
const PASSWORD = `v/+=@:%'"\\$ x`;
/** What `openssl rand -hex 16` (the documented generator) makes: URL-safe. */
const HEX_PASSWORD = '0f9e8d7c6b5a49382716a5b4c3d2e1f0';

const enabled = toolAvailable('redis-server') && toolAvailable('redis-cli');
let tree: RenderedTree;

/** Compose writes `$$` for a literal `$`. */
function unescapeCompose(text: string): string {
  return text.replace(/\$\$/g, '$');
}

interface Server {
  readonly port: number;
  readonly process: ChildProcess;
  readonly dir: string;
}

async function startValkey(password: string): Promise<Server> {
  const command = tree.service('homelab/data', 'valkey').command as string[];
  expect(command.slice(0, 2)).toEqual(['sh', '-c']);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'platform-valkey-'));
  // The image's entrypoint hands `valkey-server` its arguments; Debian's server is redis-server.
  const script = `${unescapeCompose(command[2] as string).replace('docker-entrypoint.sh valkey-server', 'redis-server')} --port ${port} --bind 127.0.0.1 --dir ${dir} --save ''`;
  const child = spawn('sh', ['-c', script], { env: { PATH: process.env.PATH, VALKEY_PASSWORD: password }, stdio: 'ignore' });
  for (let i = 0; i < 500; i++) {
    if (await answersPing(port)) return { port, process: child, dir };
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill();
  throw new Error('redis-server did not start');
}

/**
 * Whether a server on 127.0.0.1:`port` answers PING (`+PONG`, or `-NOAUTH` when it wants a
 * password), asked in-process in the protocol's inline form (`PING\r\n`, which redis-server and
 * Valkey accept besides RESP arrays): polling start-up costs no redis-cli process per try.
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(/^(\+PONG|-NOAUTH)/.test(reply));
    });
  });
}

function stop(server: Server | undefined): void {
  if (!server) return;
  server.process.kill('SIGTERM');
  rmSync(server.dir, { recursive: true, force: true });
}

/** The rendered health check, with Debian's CLI and the test port. */
function healthCheck(server: Server, env: Record<string, string>): number | null {
  const test = (tree.service('homelab/data', 'valkey').healthcheck as { test: string[] }).test;
  expect(test.slice(0, 3)).toEqual(['CMD', 'sh', '-c']);
  const script = unescapeCompose(test[3] as string).replace('valkey-cli', `redis-cli -p ${server.port}`);
  return spawnSync('sh', ['-c', script], { env: { PATH: process.env.PATH, ...env } }).status;
}

describe.skipIf(!enabled)('Valkey on a real server (redis-server)', () => {
  let server: Server;
  let hexServer: Server;
  beforeAll(async () => {
    tree = renderTree(inlineConfig(CONFIG), 'plain');
    // One after the other: the second asks for a free port once the first holds its own.
    server = await startValkey(PASSWORD);
    hexServer = await startValkey(HEX_PASSWORD);
  }, 60_000);
  afterAll(() => {
    stop(server);
    stop(hexServer);
  });

  it('refuses commands without the password', () => {
    const result = spawnSync('redis-cli', ['-p', String(server.port), 'SET', 'k', 'v'], { encoding: 'utf8' });
    expect(result.stdout).toContain('NOAUTH');
  });

  it('is healthy only when the health check presents the password (REDISCLI_AUTH from VALKEY_PASSWORD)', () => {
    const env = tree.service('homelab/data', 'valkey').environment ?? {};
    expect(env.REDISCLI_AUTH).toBe('${VALKEY_PASSWORD:?}');
    expect(healthCheck(server, { REDISCLI_AUTH: PASSWORD })).toBe(0);
    expect(healthCheck(server, { REDISCLI_AUTH: 'wrong' })).not.toBe(0);
    expect(healthCheck(server, {})).not.toBe(0);
  });

  it("hands every client the password: the app's URL authenticates as rendered", () => {
    const env = tree.service('homelab/apps', 'api').environment ?? {};
    expect(env.VALKEY_PASSWORD).toBe('${VALKEY_PASSWORD:?}');
    const url = (env.VALKEY_URL as string)
      .replace('${VALKEY_PASSWORD:?}', HEX_PASSWORD)
      .replace('@valkey:6379/', `@127.0.0.1:${hexServer.port}/`);
    const result = spawnSync('redis-cli', ['-u', url, 'SET', 'greeting', 'hello'], { encoding: 'utf8' });
    expect(result.stdout.trim(), result.stderr).toBe('OK');
  });

  it('gives LiteLLM REDIS_PASSWORD and SearxNG a URL with it, and no file holds it', () => {
    expect(tree.service('homelab/llm', 'litellm').environment?.REDIS_PASSWORD).toBe('${VALKEY_PASSWORD:?}');
    const searxngUrl = tree.service('homelab/search', 'searxng').environment?.SEARXNG_VALKEY_URL as string;
    const parsed = new URL(searxngUrl.replace('${VALKEY_PASSWORD:?}', HEX_PASSWORD));
    expect([parsed.protocol, parsed.username, parsed.password, parsed.hostname, parsed.port]).toEqual(['valkey:', 'default', HEX_PASSWORD, 'valkey', '6379']);
    const settings = readYaml(tree.files.get('homelab/search/searxng/settings.yml') as string) as Record<string, unknown>;
    expect(settings.valkey).toBeUndefined();
    expect(settings.server).toMatchObject({ limiter: true });
  });

  it('generates the password from a URL-safe alphabet (hex), as .env.example says', () => {
    expect(tree.files.get('homelab/data/.env.example')).toContain('Make one: openssl rand -hex 16\nVALKEY_PASSWORD=');
  });
});
