import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { renderTree } from './support/render.js';
import { stopped } from './support/process.js';
import { toolAvailable } from './support/tools.js';
import { readYaml } from './support/yaml.js';

/*
 * ntfy is private: anonymous clients can neither read nor publish; users, access and tokens come
 * from secrets; Alertmanager publishes with its token. The real Alertmanager (Debian's
 * prometheus-alertmanager) runs the rendered config against a stub ntfy on loopback.
 */

const tree = renderTree(undefined, 'plain');
const ntfy = tree.service('homelab/monitoring', 'ntfy');
const alertmanager = tree.service('homelab/monitoring', 'alertmanager');
const scratch = mkdtempSync(join(tmpdir(), 'platform-ntfy-'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
  rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe('ntfy', () => {
  it('denies anonymous access and declares its users, access and token from secrets', () => {
    const env = ntfy.environment ?? {};
    expect(env.NTFY_AUTH_DEFAULT_ACCESS).toBe('deny-all');
    expect(env.NTFY_AUTH_FILE).toMatch(/^\/var\/cache\/ntfy\//);
    expect(env.NTFY_ENABLE_SIGNUP).toBe('false');
    expect(env.NTFY_ADMIN_PASSWORD_HASH).toBe('${NTFY_ADMIN_PASSWORD_HASH:?}');
    expect(env.NTFY_ALERTMANAGER_PASSWORD_HASH).toBe('${NTFY_ALERTMANAGER_PASSWORD_HASH:?}');
    expect(env.NTFY_AUTH_ACCESS).toBe('alertmanager:alerts:wo');
    expect(env.NTFY_AUTH_TOKENS).toBe('alertmanager:${NTFY_ALERTMANAGER_TOKEN:?}:Alertmanager');
  });

  it('decodes the base64 hashes into the bcrypt users ntfy reads, in its environment, not its arguments', async () => {
    // The rendered entrypoint, run by a real sh with `ntfy` stubbed to print what it was given.
    const [shell, flag, script, argv0] = ntfy.entrypoint as string[];
    expect([shell, flag, argv0]).toEqual(['/bin/sh', '-c', 'ntfy']);
    const bin = join(scratch, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'ntfy'), '#!/bin/sh\nprintf "args=%s\\nusers=%s\\n" "$*" "$NTFY_AUTH_USERS"\n', { mode: 0o755 });
    const owner = '$2a$10$abcdefghijklmnopqrstuu5cGiY0SaLwH3ftGnd9XqA6ogXP8sm2';
    const publisher = '$2a$10$zyxwvutsrqponmlkjihgfeLqIdVT1vSnhsyFmMB9L4Yg5nUMdH7dW';
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    // Compose hands the container `$$` as `$`.
    const result = spawnSync('sh', ['-c', (script as string).replaceAll('$$', '$'), 'ntfy', ...(ntfy.command as string[])], {
      env: { PATH: `${bin}:/usr/bin:/bin`, NTFY_ADMIN_PASSWORD_HASH: b64(owner), NTFY_ALERTMANAGER_PASSWORD_HASH: b64(publisher) },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`args=serve\nusers=admin:${owner}:admin,alertmanager:${publisher}:user\n`);
  });

  it('serves metrics on a listener of their own, not on the routed site', () => {
    expect(ntfy.environment?.NTFY_METRICS_LISTEN_HTTP).toBe(':9095');
    expect(tree.files.get('homelab/monitoring/prometheus/prometheus.yml')).toContain('ntfy:9095');
  });

  it('Alertmanager gets the token as a secret and sends it as a bearer token', () => {
    expect(alertmanager.environment?.NTFY_TOKEN).toBe('${NTFY_ALERTMANAGER_TOKEN:?}');
    const config = readYaml(tree.files.get('homelab/monitoring/alertmanager/alertmanager.yml') ?? '') as { receivers: { webhook_configs: { http_config: unknown }[] }[] };
    expect(config.receivers[0]?.webhook_configs[0]?.http_config).toEqual({ authorization: { type: 'Bearer', credentials_file: '/tmp/ntfy-token' } });
    expect((alertmanager.entrypoint as string[]).join(' ')).toContain(`printf '%s' "$$NTFY_TOKEN" > /tmp/ntfy-token && exec /bin/alertmanager "$$@"`);
  });

  it.runIf(toolAvailable('prometheus-alertmanager'))('the real Alertmanager publishes a firing alert to the topic with the token', async () => {
    const received: { url: string; auth: string | undefined; body: string }[] = [];
    const stub = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', auth: req.headers.authorization, body });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((done) => stub.close(() => done())));
    const stubPort = (stub.address() as AddressInfo).port;
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });

    const config = readYaml(tree.files.get('homelab/monitoring/alertmanager/alertmanager.yml') ?? '') as {
      route: Record<string, unknown>;
      receivers: { webhook_configs: { url: string; http_config: { authorization: { credentials_file: string } } }[] }[];
    };
    const hook = config.receivers[0]?.webhook_configs[0];
    if (!hook) throw new Error('no webhook');
    // Only the address and the waiting time change: ntfy becomes the stub, the token a local file.
    hook.url = hook.url.replace(/^http:\/\/ntfy:80/, `http://127.0.0.1:${stubPort}`);
    hook.http_config.authorization.credentials_file = join(scratch, 'ntfy-token');
    config.route.group_wait = '0s';
    writeFileSync(join(scratch, 'ntfy-token'), 'tk_0123456789abcdefghijklmnopq');
    writeFileSync(join(scratch, 'alertmanager.yml'), stringify(config));

    const am = spawn('prometheus-alertmanager', [
      `--config.file=${join(scratch, 'alertmanager.yml')}`,
      `--storage.path=${join(scratch, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ], { stdio: 'ignore' });
    cleanups.push(() => stopped(am));
    const alert = [{ labels: { alertname: 'TargetDown', node: 'rtx', severity: 'critical' }, annotations: { summary: 'node-exporter on rtx is not answering scrapes' } }];
    for (let i = 0; i < 100 && received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        await fetch(`http://127.0.0.1:${port}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
      } catch {
        // not listening yet
      }
    }
    expect(received.length).toBeGreaterThan(0);
    const first = received[0];
    expect(first?.auth).toBe('Bearer tk_0123456789abcdefghijklmnopq');
    expect(first?.url.startsWith('/alerts?')).toBe(true);
    expect(new URLSearchParams(first?.url.split('?')[1]).get('tpl')).toBe('yes');
    expect(JSON.parse(first?.body ?? '{}').commonLabels.alertname).toBe('TargetDown');
  }, 60_000);
});
