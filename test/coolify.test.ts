import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeSchemaValidator } from './support/compose-schema.js';

import { ComposeResolver } from '../lib/compose/resolver.js';
import { composeConfigName } from '../lib/compose/service.js';
import { referenceConfig, type LoadedConfig } from '../lib/config/load.js';
import { PROFILE_NAMES, PROFILES } from '../lib/config/profiles.js';
import { HOST_NETWORK_ADDRESS_ENV } from '../lib/model/service.js';
import { Secret } from '../lib/model/secret.js';
import { render } from '../lib/synth.js';
import { MissingRequiredError, parseDotenv, substitute } from './support/compose-interpolation.js';
import { coolifyRawDeploy, coolifyServiceDeploy, parseCompose, envLine, type CoolifyVariable, type DeployedService } from './support/coolify.js';
import { fixtureNames, inlineConfig, loadFixture } from './support/render.js';
import { toolAvailable } from './support/tools.js';

/*
 * The Coolify flavour, deployed the way its READMEs say (a Git-based Docker Compose application with
 * Raw Compose Deployment on), through what Coolify 4.3.11 does to the file (test/support/coolify.ts,
 * each step citing Coolify's source) and Compose's own interpolation (test/support/compose-interpolation.ts,
 * ported from compose-go). Then each of the six things that used to break is checked against the model.
 */

/** A real bcrypt hash of "test", as `caddy hash-password` prints it: `$` everywhere. */
const BCRYPT = '$2a$14$MlarAzP6FGurlrVdI8zeE.e0DghXZq66ylIHd3lSRvvvvcHjVOGuC';
const BCRYPT_BASE64 = Buffer.from(BCRYPT).toString('base64');

/** A value of the kind each secret is made as (.env.example's "Make one"). */
function valueFor(secret: Secret | undefined, name: string): string {
  switch (secret?.generate) {
    case 'bcrypt':
      // What .env.example tells the owner to make: the hash as printed, or base64-encoded.
      return secret.howToGenerate.includes('base64') ? BCRYPT_BASE64 : BCRYPT;
    case 'hex32':
      return '0123456789abcdef0123456789abcdef';
    case 'user':
      return 'platform_user';
    case 'manual':
      return `tok_${name.toLowerCase()}_AbC123`;
    default:
      return `${secret?.prefix ?? ''}q8/Zx+Tn0k4=${name.length}`;
  }
}

const configs: { name: string; load: () => LoadedConfig }[] = [
  { name: 'reference', load: referenceConfig },
  ...PROFILE_NAMES.map((name) => ({ name: `profile ${name}`, load: () => inlineConfig(PROFILES[name].config) })),
  ...fixtureNames('valid').map((name) => ({ name: `fixture ${name}`, load: () => loadFixture('valid', name) })),
];

const validateCompose = composeSchemaValidator();

// `$${NAME}` is Compose's escape: the container's shell reads it, Compose does not.
const REFERENCE = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+?][^}]*)?\}/g;

describe.each(configs)('$name, Coolify flavour deployed raw', ({ load }) => {
  const { platform, files, units } = render(load(), 'coolify');
  const fileText = (path: string) => files.find((f) => f.path === path)?.content ?? '';
  const secrets = new Map(platform.services.flatMap((s) => s.secrets).map((s) => [s.name, s]));

  const deployments = units.map((unit) => {
    const text = fileText(`${unit.dir}/compose.yaml`);
    const referenced = [...new Set([...text.matchAll(REFERENCE)].map((m) => m[1] as string))].sort();
    // Coolify generates its magic SERVICE_* variables itself; the owner's are `${NAME:?}`.
    const required = [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?\}/g)].map((m) => m[1] as string))].sort();
    const variables: Record<string, CoolifyVariable> = Object.fromEntries(referenced.map((n) => [n, { value: valueFor(secrets.get(n), n) }]));
    return { unit, text, referenced, required, variables, deployed: coolifyRawDeploy(text, variables) };
  });
  const each = deployments.map((d) => [d.unit.dir, d] as const);

  it.each(each)('%s: Compose accepts the file Coolify hands it', (_dir, { deployed }) => {
    validateCompose(deployed.compose);
    expect(validateCompose.errors ?? []).toEqual([]);
  });

  // 1. Secrets with `$` survive, and no value is written into the compose file.
  it.each(each)('%s: every secret reaches its container byte for byte, and none is in the compose file', (_dir, { unit, text, variables, deployed }) => {
    const written = parseCompose(text);
    for (const service of unit.services) {
      const env = (deployed.compose.services[service.name] as DeployedService).environment ?? {};
      for (const [key, value] of Object.entries(service.env)) {
        if (!(value instanceof Secret)) continue;
        // `${PG_PASSWORD:?}`, or Coolify's generated `${SERVICE_PASSWORD_PGPASSWORD}` with magicSecrets
        const variable = /^\$\{([A-Za-z0-9_]+)/.exec(written.services[service.name]?.environment?.[key] ?? '')?.[1] as string;
        expect(variable, `${service.name} ${key}`).toBeDefined();
        expect(env[key], `${service.name} ${key}`).toBe(variables[variable]?.value);
      }
    }
    for (const { value } of Object.values(variables)) expect(text).not.toContain(value);
    if (unit.services.some((s) => s.name === 'caddy')) {
      const env = (deployed.compose.services.caddy as DeployedService).environment ?? {};
      const hashes = Object.entries(env).filter(([k]) => k.endsWith('_BASIC_AUTH_HASH'));
      // One per basic-auth site of the model (none on a box without ComfyUI and the DNS admin).
      const caddy = unit.services.find((s) => s.name === 'caddy');
      expect(hashes.length).toBe(Object.keys(caddy?.env ?? {}).filter((k) => k.endsWith('_BASIC_AUTH_HASH')).length);
      for (const [, v] of hashes) expect(Buffer.from(v, 'base64').toString()).toBe(BCRYPT);
    }
  });

  // 2. Read-only binds stay read-only.
  it.each(each)('%s: every bind the model mounts read-only is read-only in the deployed file', (_dir, { unit, deployed }) => {
    for (const service of unit.services) {
      const volumes = (deployed.compose.services[service.name] as DeployedService).volumes ?? [];
      for (const spec of service.volumesFor('compose')) {
        const mounted = volumes.find((v) => (typeof v === 'string' ? v.split(':')[1] === spec.mountPath : v.target === spec.mountPath));
        expect(mounted, `${service.name} ${spec.mountPath}`).toBeDefined();
        const readOnly = typeof mounted === 'string' ? mounted.split(':')[2] === 'ro' : mounted?.read_only === true;
        expect(readOnly, `${service.name} ${spec.mountPath}`).toBe(spec.readOnly === true);
      }
    }
  });

  // 3. Zone isolation: each container is on exactly the networks of the zone plan, nothing of Coolify's.
  it.each(each)('%s: each container joins exactly the networks of the zone plan', (_dir, { unit, deployed }) => {
    const planned = new Set<string>();
    for (const service of unit.services) {
      const want = platform.linkPlan.networks(service, unit.node);
      want.forEach((n) => planned.add(n));
      // A host-network service (node-exporter) joins no network of the file.
      expect((deployed.compose.services[service.name] as DeployedService).networks ?? [], service.name).toEqual(want);
    }
    expect(Object.keys(deployed.compose.networks ?? {}).sort()).toEqual([...planned].sort());
    for (const network of Object.values(deployed.compose.networks ?? {})) expect(network).toEqual({ external: true });
    const script = fileText(`${unit.node.name}/networks.sh`);
    for (const zone of platform.zones.values()) {
      if (!planned.has(zone.networkName)) continue;
      const line = script.split('\n').find((l) => l.startsWith(`ensure_network ${zone.networkName} `));
      expect(line, zone.name).toBeDefined();
      expect(line?.endsWith(' --internal'), zone.name).toBe(zone.isolated);
    }
  });

  // 4. Config files: the text of this render, delivered at each deploy.
  it.each(each)('%s: each config file the container reads equals the model', (_dir, { unit, deployed }) => {
    for (const service of unit.services) {
      const resolver = new ComposeResolver(service, unit.node);
      const mounted = (deployed.compose.services[service.name] as DeployedService).configs ?? [];
      expect(mounted.map((c) => c.target).sort(), service.name).toEqual(service.configFiles.map((f) => f.mountPath).sort());
      for (const file of service.configFiles) {
        const name = composeConfigName(service, file.name);
        expect(mounted.find((c) => c.target === file.mountPath)?.source).toBe(name);
        expect(deployed.compose.configs?.[name]?.content, `${service.name} ${file.name}`).toBe(file.content(resolver));
      }
    }
  });

  // 5. No profiles: `up -d` starts every service of every file.
  it('starts every deployed service with a plain `up -d`', () => {
    const started = deployments.flatMap((d) => d.deployed.started.map((s) => `${d.unit.node.name}/${s}`)).sort();
    const expected = units.flatMap((u) => u.services.map((s) => `${u.node.name}/${s.name}`)).sort();
    expect(started).toEqual(expected);
  });

  // 6. Each container gets its own variables; a missing one stops the deploy whatever triggered it.
  it.each(each)('%s: no container gets the .env, and .env.example lists exactly what the file reads', (_dir, { unit, referenced, deployed }) => {
    for (const service of unit.services) {
      const s = deployed.compose.services[service.name] as DeployedService;
      expect(s.env_file, service.name).toBeUndefined();
      // A host-network service is told the node address to listen on; nothing else is added.
      const own = Object.keys(service.env).concat(service.security.hostNetwork ? [HOST_NETWORK_ADDRESS_ENV] : []);
      expect(Object.keys(s.environment ?? {}).sort(), service.name).toEqual(own.sort());
    }
    const example = fileText(`${unit.dir}/.env.example`);
    const listed = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=$/gm)].map((m) => m[1] as string).sort();
    const generated = [...example.matchAll(/^# {3}\S+ -> (\S+)$/gm)].map((m) => m[1] as string);
    expect([...listed, ...generated].sort()).toEqual(referenced);
  });

  it.each(each.filter(([, d]) => d.required.length > 0))('%s: Compose refuses to start while any one variable is empty', (_dir, { text, variables, required }) => {
    for (const name of required) {
      const without = { ...variables, [name]: { value: '' } };
      expect(() => coolifyRawDeploy(text, without), name).toThrow(MissingRequiredError);
      expect(() => coolifyRawDeploy(text, without), name).toThrow(`required variable ${name} is missing a value`);
    }
  });
});

describe('the Coolify transformation reproduces what broke before', () => {
  it('a bcrypt hash written unquoted into .env is mangled by Compose (the reason hashes are base64)', () => {
    const env = parseDotenv(envLine('HASH', { value: BCRYPT }));
    expect(env.get('HASH')).not.toBe(BCRYPT);
    expect(parseDotenv(envLine('HASH', { value: BCRYPT, literal: true })).get('HASH')).toBe(BCRYPT);
    expect(parseDotenv(envLine('HASH', { value: BCRYPT_BASE64 })).get('HASH')).toBe(BCRYPT_BASE64);
  });

  it('a bcrypt hash substituted into the compose file (parsed mode) is mangled by Compose', () => {
    expect(substitute(`${BCRYPT}`, () => undefined)).not.toBe(BCRYPT);
  });

  it('compose-go rules: $$ escapes, defaults, required, nested braces', () => {
    const env = new Map([['A', 'x'], ['E', '']]);
    const m = (k: string) => env.get(k);
    expect(substitute('$$A ${A} $A ${A:-d} ${E:-d} ${E-d} ${U:-${A}} ${A:+set}', m)).toBe('$A x x x d  x set');
    expect(() => substitute('${E:?empty}', m)).toThrow('required variable E is missing a value: empty');
    expect(substitute('${E?}', m)).toBe('');
    expect(parseDotenv("A='$x' \nB=\"a\\$b\"\nC=$A-y # c\nexport D=1")).toEqual(new Map([['A', '$x'], ['B', 'a$b'], ['C', '$x-y'], ['D', '1']]));
  });

  it('the old output (Coolify content binds, exclude_from_hc, profiles) fails these checks', () => {
    const old = [
      'services:',
      '  cogvideox:',
      '    image: x:1',
      '    profiles: [backup]',
      '  init:',
      '    image: x:1',
      '    exclude_from_hc: true',
      '    volumes:',
      '      - { type: bind, source: ./c/f, target: /f, read_only: true, content: "text" }',
    ].join('\n');
    const deployed = coolifyRawDeploy(old, {});
    expect(deployed.started).toEqual(['init']);
    expect(validateCompose(deployed.compose)).toBe(false);
    expect(JSON.stringify(deployed.compose)).not.toContain('text');
  });
});

describe('the same files pasted as a Coolify Service (Docker Compose Empty) lose what the raw application keeps', () => {
  const { platform, files, units } = render(referenceConfig(), 'coolify');
  const text = (dir: string) => files.find((f) => f.path === `${dir}/compose.yaml`)?.content as string;
  const values = (dir: string): Record<string, CoolifyVariable> =>
    Object.fromEntries([...text(dir).matchAll(REFERENCE)].map((m) => [m[1] as string, { value: valueFor(undefined, m[1] as string) }]));
  const unitOf = (service: string) => units.find((u) => u.services.some((s) => s.name === service)) as (typeof units)[number];

  it('secrets are written into the compose file, and a bcrypt hash is mangled on the way', () => {
    const edge = unitOf('caddy');
    const deployed = coolifyServiceDeploy(text(edge.dir), { COMFYUI_BASIC_AUTH_HASH: { value: BCRYPT }, DNS_BASIC_AUTH_HASH: { value: BCRYPT_BASE64 } });
    expect(deployed.written).toContain(BCRYPT_BASE64);
    expect((deployed.compose.services.caddy as DeployedService).environment?.COMFYUI_BASIC_AUTH_HASH).not.toBe(BCRYPT);
  });

  it('long-syntax read-only binds become read-write', () => {
    const readOnly = platform.services.flatMap((s) => s.volumesFor('compose').filter((v) => 'hostPath' in v && v.readOnly).map((v) => ({ service: s, v })));
    expect(readOnly.length).toBeGreaterThan(0);
    for (const { service, v } of readOnly) {
      const unit = unitOf(service.name);
      const volumes = (coolifyServiceDeploy(text(unit.dir), values(unit.dir)).compose.services[service.name] as DeployedService).volumes ?? [];
      expect(volumes, `${service.name} ${v.mountPath}`).toContain(`${(v as { hostPath: string }).hostPath}:${v.mountPath}`);
    }
  });

  it('every container joins every network of its file and a non-internal one of Coolify', () => {
    const data = unitOf('postgres');
    const deployed = coolifyServiceDeploy(text(data.dir), values(data.dir));
    const postgres = deployed.compose.services.postgres as DeployedService;
    expect(platform.services.find((s) => s.name === 'postgres')?.zone.isolated).toBe(true);
    expect(postgres.networks).toContain('k8s0c0olify0uuid');
    expect(deployed.compose.networks?.['k8s0c0olify0uuid']).toEqual({ name: 'k8s0c0olify0uuid', external: true });
  });

  it('every container gets the whole .env', () => {
    for (const unit of units) {
      for (const service of Object.values(coolifyServiceDeploy(text(unit.dir), values(unit.dir)).compose.services)) expect(service.env_file).toEqual(['.env']);
    }
  });
});

describe.runIf(toolAvailable('caddy'))('Caddy with the deployed basic-auth hash', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'platform-coolify-caddy-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /**
   * A bcrypt hash of "test" at bcrypt's lowest cost, 4: Caddy reads the cost from the hash
   * (golang.org/x/crypto/bcrypt CompareHashAndPassword; MinCost = 4 in bcrypt.go), so it logs in
   * like BCRYPT does, without the second of CPU each cost-14 check takes. What this test is about,
   * the `$`s reaching Caddy intact through Coolify, is the same.
   */
  const CHEAP_BCRYPT_BASE64 = Buffer.from('$2a$04$OnL57qD7puSwlr9hWwfT5ew59YMD5ZNkaM8Nmd3e6NtlewQoq9LS6').toString('base64');

  it('accepts the right password and refuses a wrong one (loopback)', async () => {
    const { files, units } = render(referenceConfig(), 'coolify');
    const edge = units.find((u) => u.services.some((s) => s.name === 'caddy'));
    const text = files.find((f) => f.path === `${edge?.dir}/compose.yaml`)?.content as string;
    const deployed = coolifyRawDeploy(text, {
      COMFYUI_BASIC_AUTH_HASH: { value: CHEAP_BCRYPT_BASE64 },
      DNS_BASIC_AUTH_HASH: { value: CHEAP_BCRYPT_BASE64 },
      LOKI_PUSH_PASSWORD_HASH: { value: CHEAP_BCRYPT_BASE64 },
    });
    const env = (deployed.compose.services.caddy as DeployedService).environment ?? {};
    const caddyfile = deployed.compose.configs?.['caddy-Caddyfile']?.content ?? '';
    // The deployed Caddyfile's basic-auth block, in front of a stub on a loopback port.
    const block = /basicauth \{\n[^\n]*\n\t*\}/.exec(caddyfile)?.[0];
    expect(block).toContain('{$COMFYUI_BASIC_AUTH_HASH}');
    const port = 20000 + (process.pid % 20000);
    const file = join(scratch, 'Caddyfile');
    writeFileSync(file, `{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:${port} {\n\t${block?.replace(/\n\t*/g, '\n\t')}\n\trespond "ok"\n}\n`);
    const home = join(scratch, 'home');
    const childEnv = { ...process.env, ...env, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home };
    execFileSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', file], { env: childEnv, stdio: 'pipe' });
    const caddy = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', file], { env: childEnv, stdio: 'ignore' });
    try {
      const url = `http://127.0.0.1:${port}/`;
      const auth = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
      let ok: Response | undefined;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await fetch(url, { headers: auth('admin', 'test') }).catch(() => undefined);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok?.status).toBe(200);
      expect((await fetch(url, { headers: auth('admin', 'wrong') })).status).toBe(401);
      expect((await fetch(url)).status).toBe(401);
    } finally {
      caddy.kill();
    }
  }, 30_000);
});

