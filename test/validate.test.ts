import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { referenceConfig, validateConfig, type LoadedConfig } from '../lib/config/load.js';
import type { PlatformConfigInput } from '../lib/config/schema.js';
import { buildPlatform } from '../lib/synth.js';
import { checkPlatform, type Validation } from '../lib/validate/check.js';
import { formatValidation } from '../lib/validate/report.js';
import { RULES } from '../lib/validate/rules.js';
import { validate } from '../lib/validate/validate.js';
import { VERSION } from '../lib/version.js';
import { configKey, deepFreeze, FIXTURES, fixtureNames, loadFixture } from './support/render.js';

function inline(data: PlatformConfigInput): () => LoadedConfig {
  return () => {
    const source = { file: 'inline.yaml' };
    return { config: validateConfig(data, source), source };
  };
}

const of = (v: Validation, rule: string) => v.findings.filter((f) => f.rule === rule).map((f) => ({ severity: f.severity, path: f.path.join('.'), message: f.message }));

const validations = new Map<string, Promise<Validation>>();
/**
 * `validate` of each distinct config once (it builds the k3s app, and ten rules fail or pass on
 * the reference alone); frozen, so no test changes what another reads. A config that does not
 * load is validated each time (that is the path under test there).
 */
function validateOnce(load: () => LoadedConfig): Promise<Validation> {
  let loaded: LoadedConfig;
  try {
    loaded = load();
  } catch {
    return validate(load);
  }
  const key = configKey(loaded);
  let result = validations.get(key);
  if (result === undefined) {
    result = validate(() => loaded).then(deepFreeze);
    validations.set(key, result);
  }
  return result;
}

const reference = await validateOnce(referenceConfig);

describe('validate refuses what synth refuses', () => {
  /**
   * Each invalid fixture's `.error` file is the message `platform synth` gives (config.test.ts checks
   * that, both targets rendered). validate builds the k3s app without rendering it, so this is what
   * says the checks made while rendering are all made before: every fixture gets error findings,
   * each of them a line of synth's message, or (a file that does not parse) the same error.
   */
  it.each(fixtureNames('invalid'))('%s', async (name) => {
    const expected = readFileSync(join(FIXTURES, 'invalid', `${name}.error`), 'utf8').replaceAll('test/fixtures/', `${FIXTURES}/`);
    let validation: Validation;
    try {
      validation = await validate(() => loadFixture('invalid', name));
    } catch (err) {
      expect(expected).toContain((err as Error).message.split('\n')[0]);
      return;
    }
    const errors = validation.findings.filter((f) => f.severity === 'error');
    expect(errors.length, name).toBeGreaterThan(0);
    for (const finding of errors) expect(expected, name).toContain(`: ${finding.message}`);
  });
});

/** Small enough for one 24 GB card: only Ollama, one 7B model. */
const SMALL: PlatformConfigInput = {
  services: { comfyui: { enabled: false }, 'comfyui-models': { enabled: false }, mochi: { enabled: false }, cogvideox: { enabled: false } },
  models: { ollama: [{ name: 'qwen2.5:7b-instruct-q4_K_M', alias: 'gpt-4', vramGb: 4.7 }] },
};
const API = { image: 'ghcr.io/me/api:1.0.0', port: 3001 };

/**
 * One failing and one passing configuration per rule; the failing one's findings of that rule,
 * exactly. Rules enforced while loading (schema, placement) report through the same findings.
 */
const CASES: { rule: string; fail: () => LoadedConfig; pass: () => LoadedConfig; expected: ReturnType<typeof of> }[] = [
  {
    rule: 'vram-budget',
    fail: referenceConfig,
    pass: inline(SMALL),
    expected: [
      {
        severity: 'warning',
        path: 'nodes.rtx.gpus.0',
        message:
          'GPU 0 of rtx (RTX 4090, 24 GB) may need 82.3 GB at once: ollama llama3.3:70b-instruct-q4_K_M 24 GB + ollama qwen2.5:32b-instruct-q5_K_M 23.3 GB + comfyui sdxl 8 GB + mochi mochi-1 22 GB + cogvideox cogvideox-5b 5 GB (with its optimizations; 26 GB without)',
      },
    ],
  },
  {
    rule: 'vram-offload',
    fail: referenceConfig,
    pass: inline(SMALL),
    expected: [
      {
        severity: 'warning',
        path: 'models.ollama.0.vramGb',
        message: 'llama3.3:70b-instruct-q4_K_M needs 42.5 GB but GPU 0 of rtx has 24 GB: Ollama offloads the rest to CPU RAM (slow)',
      },
    ],
  },
  {
    rule: 'vram-model-too-large',
    fail: inline({ nodes: { homelab: { role: 'server', address: '192.168.1.10' }, rtx: { role: 'gpu', address: '192.168.1.11', gpus: [{ model: 'RTX 3050', vramGb: 8 }] } } }),
    pass: referenceConfig,
    expected: [{ severity: 'error', path: 'services.mochi.node', message: 'mochi needs at least 22 GB for mochi-1, but GPU 0 of rtx has 8 GB: it cannot load' }],
  },
  {
    rule: 'gpu-oversubscribed',
    fail: referenceConfig,
    pass: inline(SMALL),
    expected: [
      {
        severity: 'warning',
        path: 'nodes.rtx.gpus',
        message:
          'GPU 0 of rtx runs 4 GPU services (ollama, comfyui, mochi, cogvideox): Compose hands them the same device, k3s time-slices each GPU of rtx into 4; compute is shared and VRAM is not isolated',
      },
    ],
  },
  {
    rule: 'node-capacity',
    fail: inline({ nodes: { homelab: { role: 'server', address: '192.168.1.10', memoryGb: 8 }, rtx: { role: 'gpu', address: '192.168.1.11', gpus: [{ model: 'RTX 4090', vramGb: 24 }] } } }),
    pass: inline({ nodes: { homelab: { role: 'server', address: '192.168.1.10', cpus: 64, memoryGb: 512 }, rtx: { role: 'gpu', address: '192.168.1.11', cpus: 64, memoryGb: 512, gpus: [{ model: 'RTX 4090', vramGb: 24 }] } } }),
    expected: [
      { severity: 'error', path: 'nodes.homelab.memoryGb', message: 'homelab has 8 GB of memory but its pods request 12.63 (k3s would leave some Pending)' },
      { severity: 'warning', path: 'nodes.homelab.cpus', message: "homelab has 16 cores of CPU; its services' limits add up to 27.25 (requests 4.81): overcommitted if all peak at once" },
      { severity: 'warning', path: 'nodes.rtx.cpus', message: "rtx has 16 cores of CPU; its services' limits add up to 31 (requests 5.75): overcommitted if all peak at once" },
      { severity: 'warning', path: 'nodes.rtx.memoryGb', message: "rtx has 64 GB of memory; its services' limits add up to 146.75 (requests 57.38): overcommitted if all peak at once" },
    ],
  },
  {
    rule: 'host-port-coolify',
    fail: inline({ apps: { api: { image: 'ghcr.io/me/api:1.0.0', port: 8000 }, worker: { image: 'ghcr.io/me/worker:1.0.0', port: 9000, node: 'rtx', zone: 'gpu', connects: ['api'] } } }),
    // One node, no edge of its own: nothing on Coolify's ports.
    pass: inline({
      nodes: { homelab: { role: 'server', address: '192.168.1.10', gpus: [{ model: 'RTX 4090', vramGb: 24 }] } },
      services: { caddy: { enabled: false }, 'uptime-kuma': { enabled: false } },
    }),
    expected: [
      { severity: 'error', path: 'apps.worker', message: 'api would publish 8000/tcp on homelab (dialled by worker), the main Coolify host, which uses 8000, 6001, 6002 itself' },
      { severity: 'warning', path: 'services.caddy', message: "caddy publishes 80/tcp, 443/tcp, 443/udp on homelab, which Coolify's proxy holds unless it is turned off" },
      { severity: 'warning', path: 'services.cadvisor', message: "cadvisor publishes 8080/tcp on rtx, which Coolify's proxy holds unless it is turned off" },
    ],
  },
  {
    rule: 'host-port-clash',
    fail: () => loadFixture('invalid', 'host-port-clash'),
    pass: referenceConfig,
    expected: [
      {
        severity: 'error',
        path: 'apps.api.connects',
        message:
          'mochi (dialled by api on homelab) would publish 8000/tcp on node "rtx" (192.168.1.11), which cogvideox already publishes; place api on node "rtx" or mochi on another node',
      },
    ],
  },
  {
    rule: 'route-duplicate-host',
    fail: () => loadFixture('invalid', 'duplicate-route'),
    pass: referenceConfig,
    expected: [{ severity: 'error', path: 'apps.chatbot.route.host', message: 'chat.example.com is already routed by services.open-webui; each route needs its own host' }],
  },
  {
    rule: 'route-unreachable',
    fail: inline({ services: { caddy: { enabled: false }, 'uptime-kuma': { enabled: false } }, apps: { api: { ...API, route: { host: 'api' } } } }),
    pass: referenceConfig,
    expected: [
      { severity: 'error', path: 'apps.api.route', message: 'api.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'minio', message: 's3.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.comfyui', message: 'comfyui.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.grafana', message: 'grafana.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.minio', message: 'minio.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.ntfy', message: 'ntfy.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.open-webui', message: 'chat.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.searxng', message: 'search.example.com is routed, but caddy is turned off: nothing serves it' },
      { severity: 'error', path: 'services.technitium', message: 'dns.example.com is routed, but caddy is turned off: nothing serves it' },
    ],
  },
  {
    rule: 'coolify-literal-secret',
    fail: inline({ models: { comfyui: ['flux-dev'] } }),
    pass: referenceConfig,
    expected: [
      {
        severity: 'warning',
        path: 'services.comfyui-models',
        message: "HF_TOKEN (Hugging Face token for gated FLUX.1-dev) is supplied by you: on Coolify, a '$' in its value is expanded by Compose unless the variable is Literal",
      },
    ],
  },
  {
    rule: 'connection-dangling',
    fail: inline({ apps: { api: { ...API, connects: ['nope'] } } }),
    pass: () => loadFixture('valid', 'reference-with-apps'),
    expected: [{ severity: 'error', path: 'apps.api.connects.0', message: expect.stringMatching(/^no enabled service or app is named "nope"; apps: api; services: technitium, /) as unknown as string }],
  },
  {
    rule: 'isolated-zone-bridge',
    fail: referenceConfig,
    pass: inline({ services: { 'uptime-kuma': { enabled: false } } }),
    expected: [
      {
        severity: 'warning',
        path: 'services.uptime-kuma.zone',
        message: 'uptime-kuma in isolated zone monitoring is reached from caddy (edge) and reaches comfyui (gpu), searxng (services), minio (services), technitium (dmz): a path across the zone boundary',
      },
    ],
  },
  {
    rule: 'inference-exposed',
    fail: inline({ services: { ollama: { zone: 'edge' } } }),
    pass: () => loadFixture('valid', 'rtx3060'),
    expected: [
      { severity: 'error', path: 'services.ollama.zone', message: 'ollama (11434, no authentication) is in zone edge, beside the edge: anything compromised there reaches it directly' },
    ],
  },
  {
    rule: 'unauthenticated-port',
    // A published port that answers anyone: a warning on a LAN address (an error on a public one, below).
    fail: inline({
      nodes: {
        homelab: { role: 'server', address: '192.168.1.10', gpus: [{ model: 'RTX 3090', vramGb: 24 }] },
        box: { role: 'server', address: '192.168.1.12' },
      },
      services: { 'node-exporter': { enabled: false }, cadvisor: { enabled: false }, alloy: { enabled: false } },
      apps: { worker: { image: 'ghcr.io/me/worker:1.0.0', port: 8081, node: 'box', zone: 'services', connects: ['searxng'] } },
    }),
    pass: inline({
      nodes: { homelab: { role: 'server', address: '192.168.1.10', gpus: [{ model: 'RTX 3090', vramGb: 24 }] } },
      services: { 'node-exporter': { enabled: false }, cadvisor: { enabled: false }, alloy: { enabled: false } },
      apps: { worker: { image: 'ghcr.io/me/worker:1.0.0', port: 8081, zone: 'services', connects: ['searxng'] } },
    }),
    expected: [
      {
        severity: 'warning',
        path: 'apps.worker.node',
        message: 'searxng answers anyone on 8080/tcp (http, no authentication) and is published on homelab at 192.168.1.10:8080 for worker on box (192.168.1.12)',
      },
    ],
  },
  {
    rule: 'ollama-origins-wildcard',
    fail: inline({ services: { ollama: { env: { OLLAMA_ORIGINS: 'https://chat.example.com,*' } } } }),
    pass: inline({ services: { ollama: { env: { OLLAMA_ORIGINS: 'https://chat.example.com' } } } }),
    expected: [{ severity: 'error', path: 'services.ollama.env.OLLAMA_ORIGINS', message: 'OLLAMA_ORIGINS=* lets any web page a user visits call Ollama from their browser' }],
  },
  {
    rule: 'bind-all-interfaces',
    fail: inline({
      exposure: 'tailnet',
      tls: 'internal',
      nodes: { homelab: { role: 'server', address: '192.168.1.10', tailscaleAddress: '0.0.0.0', gpus: [{ model: 'RTX 3060', vramGb: 12 }] } },
      services: { mochi: { enabled: false }, cogvideox: { enabled: false } },
    }),
    pass: () => loadFixture('valid', 'tailnet'),
    expected: [
      {
        severity: 'error',
        path: 'nodes.homelab.tailscaleAddress',
        message: "homelab's tailscaleAddress is 0.0.0.0, so its published ports (80/tcp, 443/tcp, 443/udp, 9100/tcp, 53/tcp, 53/udp) listen on every interface, not only the tailnet one",
      },
    ],
  },
  {
    rule: 'secret-literal',
    fail: inline({ apps: { api: { ...API, env: { DB_PASSWORD: 'hunter2', LOG_LEVEL: 'debug' } } } }),
    pass: inline({ apps: { api: { ...API, env: { LOG_LEVEL: 'debug' }, secrets: ['DB_PASSWORD'] } } }),
    expected: [{ severity: 'error', path: 'apps.api.env.DB_PASSWORD', message: 'DB_PASSWORD is set to a literal value in platform.yaml; it would be committed and rendered into every output' }],
  },
  {
    rule: 'secret-undeclared',
    fail: inline({ apps: { api: { ...API, env: { DATABASE_URL: 'postgres://app:${DB_PASS}@postgres/app' } } } }),
    pass: inline({ apps: { api: { ...API, env: { DATABASE_URL: 'postgres://app:${DB_PASS}@postgres/app' }, secrets: ['DB_PASS'] } } }),
    expected: [{ severity: 'error', path: 'apps.api.env.DATABASE_URL', message: 'DATABASE_URL uses ${DB_PASS}, but no secret DB_PASS is declared; the value would be passed on literally' }],
  },
  {
    rule: 'image-floating-tag',
    fail: inline({ images: { ollama: 'ollama/ollama:latest' } }),
    pass: referenceConfig,
    expected: [
      {
        severity: 'error',
        path: 'images.ollama',
        message: '"ollama/ollama:latest" has no concrete version tag; pin one such as ollama:1.2.3 (floating tags: latest, main, main-latest, stable, edge, nightly, dev)',
      },
    ],
  },
  {
    rule: 'sovereignty-third-party',
    fail: inline({ dns: { ipLookup: 'https://1.1.1.1/cdn-cgi/trace' }, apps: { api: { ...API, env: { LLM_URL: 'https://api.openai.com/v1' } } } }),
    pass: inline({ apps: { api: { ...API, env: { LLM_URL: 'https://llm.internal.example.com/v1' } } } }),
    expected: [
      {
        severity: 'error',
        path: 'apps.api.env.LLM_URL',
        message: 'api would talk to api.openai.com (OpenAI (hosted inference)) for apps.api.env.LLM_URL: third-party inference and CDNs are ruled out',
      },
      { severity: 'error', path: 'dns.ipLookup', message: 'ddclient would talk to 1.1.1.1 (Cloudflare DNS) for public IP lookup: third-party inference and CDNs are ruled out' },
    ],
  },
];

describe('platform validate: one failing and one passing configuration per rule', () => {
  it.each(CASES)('$rule', async ({ rule, fail, pass, expected }) => {
    expect(of(await validateOnce(fail), rule)).toEqual(expected);
    expect(of(await validateOnce(pass), rule)).toEqual([]);
  });

  it('route-no-port and public-admin-without-auth, which the config cannot reach, hold on the model', () => {
    const platform = buildPlatform(referenceConfig());
    const comfyui = platform.service('comfyui');
    platform.addRoute({ host: 'comfy', service: comfyui, port: 8189, auth: false, cors: [], configPath: ['apps', 'comfy', 'route'] });
    const v = checkPlatform(platform, { file: 'model' });
    expect(of(v, 'route-no-port')).toEqual([
      { severity: 'error', path: 'apps.comfy.route', message: 'comfy.example.com routes to comfyui:8189, but comfyui listens on 8188/tcp' },
    ]);
    expect(of(v, 'public-admin-without-auth')).toEqual([
      { severity: 'error', path: 'apps.comfy.route', message: "comfy.example.com puts comfyui's admin UI, which has no login, on the internet without basic auth" },
    ]);
    expect(of(reference, 'route-no-port')).toEqual([]);
    expect(of(reference, 'public-admin-without-auth')).toEqual([]);
  });

  it('connection-cycle: stacks that wait for each other in a circle', () => {
    const platform = buildPlatform(referenceConfig());
    // llm already waits for nothing in data; make data wait for llm and llm for data.
    (platform.service('postgres') as NonNullable<ReturnType<typeof platform.service>>).connect(platform.service('litellm') as never, { ordering: true });
    (platform.service('litellm') as NonNullable<ReturnType<typeof platform.service>>).connect(platform.service('postgres') as never, { ordering: true });
    expect(platform.validate().filter((i) => i.rule === 'connection-cycle').map((i) => i.message)).toEqual([
      expect.stringContaining('stacks depend on each other in a cycle'),
    ]);
    expect(buildPlatform(referenceConfig()).validate()).toEqual([]);
  });

  it('every rule a finding names is registered, with a description', () => {
    const ids = new Set(RULES.map((r) => r.id));
    for (const c of CASES) expect(ids.has(c.rule), c.rule).toBe(true);
    for (const rule of RULES) expect(rule.description.length, rule.id).toBeGreaterThan(10);
  });
});

describe('unauthenticated-port on an edge node with a public address', () => {
  it('is an error: the internet reaches every published port there, not only the forwarded ones', async () => {
    const config = inline({
      nodes: {
        homelab: { role: 'server', address: '203.0.113.10', cpus: 16, memoryGb: 128 },
        rtx: { role: 'gpu', address: '192.168.1.11', cpus: 16, memoryGb: 64, gpus: [{ model: 'RTX 4090', vramGb: 24 }] },
      },
    });
    const errors = of(await validate(config), 'unauthenticated-port').filter((f) => f.severity === 'error');
    expect(errors.map((f) => f.message)).toContain(
      "node-exporter answers anyone on 9100/tcp (metrics, no authentication) and is published on the edge node homelab, whose public address the internet reaches at 203.0.113.10:9100",
    );
  });
});

describe('the reference platform', () => {
  it('has warnings only, among them the VRAM budget of its one 24 GB card', () => {
    expect(reference.errors).toBe(0);
    expect(reference.findings.map((f) => `${f.severity} ${f.rule} ${f.path.join('.')}`)).toEqual([
      'warning vram-budget nodes.rtx.gpus.0',
      'warning vram-offload models.ollama.0.vramGb',
      'warning gpu-oversubscribed nodes.rtx.gpus',
      'warning node-capacity nodes.homelab.cpus',
      'warning node-capacity nodes.rtx.cpus',
      'warning node-capacity nodes.rtx.memoryGb',
      'warning host-port-coolify services.caddy',
      'warning host-port-coolify services.cadvisor',
      'warning isolated-zone-bridge services.uptime-kuma.zone',
      'warning unauthenticated-port services.caddy.node',
      'warning unauthenticated-port services.litellm.node',
      // Host network (upstream's way): node-exporter listens on each node's own address.
      'warning unauthenticated-port services.node-exporter',
      'warning unauthenticated-port services.node-exporter',
      'warning unauthenticated-port services.prometheus.node',
      'warning unauthenticated-port services.prometheus.node',
      'warning unauthenticated-port services.prometheus.node',
    ]);
  });

  it('lists every destination outside the homelab, none of them forbidden', () => {
    expect(reference.egress.map((e) => `${e.host} <- ${e.from}`)).toEqual([
      'acme-v02.api.letsencrypt.org <- caddy',
      'checkip.amazonaws.com <- ddclient',
      'en.wikipedia.org <- searxng',
      'export.arxiv.org <- searxng',
      'html.duckduckgo.com <- searxng',
      'huggingface.co <- cogvideox',
      'huggingface.co <- comfyui-models',
      'huggingface.co <- mochi',
      'registry.ollama.ai <- ollama',
      'root and TLD name servers <- technitium',
      'uptime.kuma.pet <- uptime-kuma',
      'www.google.com <- searxng',
    ]);
  });

  it('text report, pinned', async () => {
    await expect(formatValidation(reference, 'text')).toMatchFileSnapshot('__snapshots__/validate/reference.txt');
  });

  it('a file location for findings of a config file', async () => {
    const v = await validate(() => loadFixture('valid', 'rtx3060'));
    const finding = v.findings.find((f) => f.rule === 'vram-budget');
    expect(finding).toMatchObject({ file: expect.stringMatching(/rtx3060\.yaml$/), line: 15, column: 9 });
  });
});

describe('report formats', () => {
  it('json: findings and egress as data', () => {
    const json = JSON.parse(formatValidation(reference, 'json'));
    expect(Object.keys(json)).toEqual(['file', 'errors', 'warnings', 'findings', 'egress']);
    expect(json.warnings).toBe(16);
    expect(json.findings[0]).toEqual({
      rule: 'vram-budget',
      severity: 'warning',
      path: 'nodes.rtx.gpus[0]',
      message: expect.stringContaining('may need 82.3 GB'),
      fix: expect.stringContaining('dedicate GPUs'),
      file: '<embedded reference platform>',
    });
    expect(json.egress[0]).toEqual({ host: 'acme-v02.api.letsencrypt.org', from: 'caddy', why: 'ACME certificates' });
  });

  // The SARIF 2.1.0 schema as the SARIF SDK ships it (inside its npm package for this platform).
  const require = createRequire(import.meta.url);
  const sdk = dirname(require.resolve(`@microsoft/sarif-multitool-${process.platform}/package.json`));
  const sarifSchema = JSON.parse(readFileSync(join(sdk, 'sarif-2.1.0.json'), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const validateSarif = ajv.compile(sarifSchema);

  it.each([
    ['reference', referenceConfig],
    ['a config file with errors', inline({ apps: { api: { ...API, env: { DB_PASSWORD: 'hunter2' } } } })],
    ['a config that does not load', () => loadFixture('invalid', 'vlan-out-of-range')],
  ] as const)('sarif validates against the SARIF 2.1.0 schema: %s', async (_, load) => {
    const v = await validate(load);
    const log = JSON.parse(formatValidation(v, 'sarif'));
    expect(validateSarif(log), JSON.stringify(validateSarif.errors, null, 2)).toBe(true);
    expect(log.runs[0].tool.driver.version).toBe(VERSION);
    expect(log.runs[0].results.length).toBe(v.findings.length);
  });

  it('the schema check can fail', () => {
    expect(validateSarif({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ level: 'fatal', message: { text: 'x' } }] }] })).toBe(false);
  });

  it('the version matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
  });
});
