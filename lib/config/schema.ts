import * as z from 'zod';
import { SERVICE_NAME_KEYS as SERVICE_NAMES } from '../services/registry.js';
import { backupSchema } from './backup-schema.js';
import { isShellVariable, SHELL_VARIABLES_TEXT } from '../model/secret.js';

/*
 * The one typed config. Every object is strict (an unknown key is an error that lists the allowed
 * keys), every field carries a description (it becomes the JSON Schema an editor completes from,
 * and the comments `platform init` writes), and every default is the reference homelab (see the
 * README): an empty platform.yaml synthesizes the reference platform.
 */

const NAME_PATTERN = /^[a-z]([-a-z0-9]{0,38}[a-z])?$/;
const NAME_RULE =
  'must be lowercase letters, digits and "-", start and end with a letter, at most 40 characters ' +
  '(Coolify reads a name ending in a digit as a port)';

/** A strict object whose unknown-key error names the keys that are allowed. */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).sort().join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown key; allowed keys here: ${allowed}` : undefined,
  });
}

export const nameSchema = z.string().regex(NAME_PATTERN, { error: NAME_RULE });

/*
 * Safe alphabets. Config text lands in shell scripts (networks.sh, create-secrets.sh, the model
 * download scripts), in config files read by other programs (Caddyfile, ddclient.conf, LiteLLM),
 * in host paths (bind mounts, hostPath) and in Kubernetes objects. Every such string is checked
 * here, at load time, against an alphabet that is data in all of those languages: no quotes, no
 * whitespace, no "$", "`", ";", "," or newline where a value reaches a script or a `key=value`
 * file, and no "." or ".." path segment. What passes needs no escaping anywhere.
 */

/** `API_KEY`: an environment variable name that is also a valid Kubernetes Secret name once lowercased (`api-key`). */
const secretNameSchema = z
  .string()
  .max(63, { error: 'must be at most 63 characters' })
  .regex(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, {
    error: 'must be an environment variable name: A-Z, 0-9 and single "_" between words, starting with a letter (it becomes the Kubernetes Secret name, lowercase with "-")',
  })
  .refine((name) => !isShellVariable(name), {
    error: `must not be a variable the shell sets or reads itself (create-secrets.sh could not tell your value from the shell's): none of ${SHELL_VARIABLES_TEXT}`,
  });
/** Environment variable names: ASCII only (POSIX portable names), as Compose and Kubernetes both accept them. */
const envKeySchema = z
  .string()
  .max(128, { error: 'must be at most 128 characters' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name: ASCII letters, digits and "_", not starting with a digit' });
/** Environment values are data in every output (YAML scalars, `$` doubled by one function): only their size and control characters are limited. */
const envValueSchema = z
  .string()
  .max(4096, { error: 'must be at most 4096 characters' })
  .regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, { error: 'must not contain control characters other than tab and newline' });
const envSchema = z.record(envKeySchema, envValueSchema);
/** One line of printable text (a description shown in READMEs, comments of scripts, annotations). */
const oneLine = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$/, { error: 'must be one line of printable text (no newline or control characters)' });
/** A path segment that is neither "." nor "..", in the portable file name alphabet. */
const SEGMENT = '(?!\\.{1,2}(?:/|$))[A-Za-z0-9._-]+';
const REPO_PATH = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);
const HOST_PATH = new RegExp(`^(?:/${SEGMENT})+$`);
const repoPath = z.string().max(255, { error: 'must be at most 255 characters' }).regex(REPO_PATH, {
  error: 'must be a folder inside the repository: segments of letters, digits, ".", "_" and "-" separated by "/", none of them "." or "..", without leading or trailing "/"',
});
const hostPath = z.string().max(255, { error: 'must be at most 255 characters' }).regex(HOST_PATH, {
  error: 'must be an absolute path: "/" then segments of letters, digits, ".", "_" and "-", none of them "." or "..", without trailing "/"',
});
/** Ollama model tags (`llama3.3:70b-instruct-q4_K_M`, `hf.co/user/repo:Q4_K_M`) and LiteLLM model names. */
const modelName = z
  .string()
  .max(200, { error: 'must be at most 200 characters' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, { error: 'must be a model name: letters, digits, ".", "_", ":", "/" and "-", starting with a letter or digit' });
/** An image reference: `[registry[:port]/]repo[:tag][@sha256:digest]`. */
const imageSchema = z
  .string()
  .max(255, { error: 'must be at most 255 characters' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/, { error: 'must be an image reference such as ghcr.io/you/app:1.2.3 (letters, digits, ".", "_", "/", ":", "@" and "-")' });
const ipv4 = z.ipv4({ error: 'must be an IPv4 address such as 192.168.1.10' });
const positive = (what: string) => z.number({ error: `must be a number (${what})` }).positive({ error: `must be greater than 0 (${what})` });
const port = z
  .number()
  .int({ error: 'must be a whole number from 1 to 65535' })
  .min(1, { error: 'must be a whole number from 1 to 65535' })
  .max(65535, { error: 'must be a whole number from 1 to 65535' });

export const serviceNameSchema = z.enum(SERVICE_NAMES, {
  error: `must be one of the platform's services: ${SERVICE_NAMES.join(', ')}`,
});

/** GPU vendors the platform renders for: NVIDIA (CUDA) and AMD (ROCm). */
export const GPU_VENDORS = ['nvidia', 'amd'] as const;
export type GpuVendor = (typeof GPU_VENDORS)[number];

const gpuSchema = strictObject({
  model: oneLine(60).min(1).describe('GPU model, e.g. "RTX 4090". Informational; shown in summaries and graphs.'),
  vramGb: positive('GB of VRAM').describe('VRAM of this GPU in GB; the VRAM budget is checked against it.'),
  vendor: z
    .enum(GPU_VENDORS, { error: 'must be one of nvidia, amd' })
    .default('nvidia')
    .describe('nvidia (CUDA: NVIDIA Container Toolkit, nvidia.com/gpu) or amd (ROCm: /dev/kfd and /dev/dri, amd.com/gpu). One vendor per node.'),
});

const nodeSchema = strictObject({
  role: z
    .enum(['server', 'gpu', 'external'], { error: 'must be one of server, gpu, external' })
    .default('server')
    .describe(
      'server: runs everything that needs no GPU. gpu: a GPU node (k3s agent / second Coolify server). ' +
        'external: a machine the platform does not deploy to (gpu-over-lan); services placed there are reached at its address.',
    ),
  address: ipv4.describe('LAN address. Published ports bind here (exposure public or lan); other nodes reach this node here.'),
  tailscaleAddress: ipv4
    .optional()
    .describe('Tailscale address (100.x.y.z). Required on every deployed node when exposure is tailnet.'),
  interface: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]+$/, { error: 'must be a network interface name such as eth0 or enp3s0' })
    .default('eth0')
    .describe('Parent network interface for macvlan zone networks (`<interface>.<vlan>`).'),
  cpus: z.number().int().positive().default(16).describe('CPU cores, for capacity checks.'),
  memoryGb: positive('GB of RAM').default(64).describe('RAM in GB, for capacity checks.'),
  diskGb: positive('GB of disk').default(2000).describe('Disk in GB, for capacity checks.'),
  gpus: z.array(gpuSchema).default([]).describe('GPUs in device-index order (GPU 0 first), all of one vendor.'),
});

const zoneSchema = strictObject({
  vlan: z
    .number({ error: 'must be a whole number from 1 to 4094' })
    .int({ error: 'must be a whole number from 1 to 4094' })
    .min(1, { error: 'must be a whole number from 1 to 4094' })
    .max(4094, { error: 'must be a whole number from 1 to 4094' })
    .optional()
    .describe('802.1Q VLAN id of this network segment (1-4094).'),
  subnet: z
    .cidrv4({ error: 'must be an IPv4 CIDR such as 10.0.30.0/24' })
    .optional()
    .describe('Subnet of the zone network, e.g. 10.0.30.0/24. Zone subnets must not overlap.'),
  gateway: ipv4.optional().describe('Router address on the VLAN, for macvlan (default: the first address of the subnet).'),
  isolated: z
    .boolean()
    .default(false)
    .describe('No route out: the compose network is `internal`; services that need egress also join the uplink network.'),
  driver: z
    .enum(['bridge', 'macvlan'], { error: 'must be one of bridge, macvlan' })
    .default('bridge')
    .describe(
      'Compose network driver. bridge: a Docker bridge per node. macvlan: containers get addresses on the VLAN ' +
        '(parent `<interface>.<vlan>`); needs vlan and subnet, and Docker cannot publish ports from it.',
    ),
  description: oneLine(200).optional().describe('What lives in this zone; shown in generated READMEs (one line, at most 200 characters).'),
  multus: z
    .boolean()
    .default(false)
    .describe(
      'k3s: attach the zone\'s pods to the VLAN as a second interface (Multus macvlan on `<interface>.<vlan>`, ' +
        'whereabouts IPAM from the subnet). Needs vlan and subnet.',
    ),
});

const serviceSettingsSchema = strictObject({
  enabled: z.boolean().optional().describe('Turn a service off (default: on).'),
  node: nameSchema.optional().describe('Node to run on (default: first GPU node for GPU services, first server otherwise).'),
  zone: nameSchema.optional().describe('Zone (network segment) to run in (default: the reference zone of the service).'),
  gpus: z
    .union([z.number().int().min(0, { error: 'must be a whole number of GPUs (0 or more) or "all"' }), z.literal('all')], {
      error: 'must be a whole number of GPUs (0 or more) or "all"',
    })
    .optional()
    .describe('GPUs this service asks for (GPU services only). 0: run on the CPU (services that can, such as ollama).'),
  gpuDevices: z
    .array(z.number().int().min(0, { error: 'must be a GPU index (0 or more)' }))
    .optional()
    .describe('Pin to these GPU indices of its node instead of automatic placement.'),
  cpus: positive('CPU cores').optional().describe('CPU limit in cores.'),
  memoryGb: positive('GB').optional().describe('Memory limit in GB.'),
  env: envSchema.optional().describe('Extra non-secret environment variables. A variable the platform fills from a secret cannot be set here.'),
  connects: z
    .array(nameSchema)
    .optional()
    .describe(
      'Apps (or other services) this service calls, e.g. litellm to a vLLM app: it gets <NAME>_HOST, <NAME>_PORT and <NAME>_URL, ' +
        'and networks and policies let it through.',
    ),
});

const ollamaModelSchema = strictObject({
  name: modelName.describe('Ollama model tag, e.g. llama3.3:70b-instruct-q4_K_M.'),
  alias: modelName.optional().describe('Name LiteLLM serves it as (OpenAI-compatible), e.g. gpt-4.'),
  vramGb: positive('GB of VRAM').describe('VRAM of the weights in GB (KV cache comes on top).'),
  mode: z.enum(['chat', 'embedding'], { error: 'must be one of chat, embedding' }).default('chat').describe('chat or embedding.'),
  fallbacks: z.array(modelName).default([]).describe('LiteLLM model names to fall back to when this one fails.'),
  rpm: z.number().int().min(1, { error: 'must be a whole number of requests per minute, 1 or more' }).optional()
    .describe('Requests per minute LiteLLM sends to this model, from every caller together; beyond it callers get 429.'),
  tpm: z.number().int().min(1, { error: 'must be a whole number of tokens per minute, 1 or more' }).optional()
    .describe('Tokens per minute (prompt and answer) of this model, from every caller together; beyond it callers get 429.'),
});

const perMinute = (what: string) => z.number().int().min(1, { error: `must be a whole number of ${what} per minute, 1 or more` });

/** Limits every virtual key gets unless it is made with its own. */
const keyLimitsSchema = strictObject({
  rpm: perMinute('requests').optional().describe('Requests per minute per key (600: the 10 requests a second of the API).'),
  tpm: perMinute('tokens').optional().describe('Tokens per minute per key.'),
  maxParallelRequests: z.number().int().min(1, { error: 'must be a whole number, 1 or more' }).optional().describe('Requests one key may have in flight at once.'),
  models: z
    .record(modelName, strictObject({ rpm: perMinute('requests').optional(), tpm: perMinute('tokens').optional() }))
    .default({})
    .describe('Per model (its LiteLLM name): requests and tokens per minute per key.'),
});

export const COMFYUI_MODEL_SETS = ['sdxl', 'flux-schnell', 'flux-dev'] as const;
/** Models of the GPU services other than Ollama, as named in the VRAM table. */
export const GPU_MODEL_NAMES = [...COMFYUI_MODEL_SETS, 'mochi-1', 'cogvideox-5b'] as const;

const REFERENCE_OLLAMA_MODELS = [
  { name: 'llama3.3:70b-instruct-q4_K_M', alias: 'gpt-4', vramGb: 42.5, mode: 'chat' as const, fallbacks: ['gpt-3.5-turbo'] },
  { name: 'qwen2.5:32b-instruct-q5_K_M', alias: 'gpt-3.5-turbo', vramGb: 23.3, mode: 'chat' as const, fallbacks: [] },
  { name: 'nomic-embed-text', alias: 'text-embedding-ada-002', vramGb: 0.3, mode: 'embedding' as const, fallbacks: [] },
  { name: 'llava:34b', alias: 'gpt-4-vision-preview', vramGb: 20.7, mode: 'chat' as const, fallbacks: [] },
];

const routeSchema = strictObject({
  host: nameSchema.describe('Subdomain: the app is served at https://<host>.<domain>.'),
  auth: z
    .boolean()
    .optional()
    .describe('Put the site behind Caddy basic auth (default: true when the app\'s auth is basic, false otherwise).'),
  cors: z
    .array(nameSchema)
    .default([])
    .describe('Route hosts whose pages may call this one from the browser (CORS), e.g. [app].'),
});

/** A port's name: a Kubernetes port name (IANA service name), also the Compose/README label. */
const portNameSchema = z
  .string()
  .regex(/^(?!.*--)[a-z]([-a-z0-9]{0,13}[a-z0-9])?$/, {
    error: 'must be a port name: lowercase letters, digits and single "-", starting with a letter, at most 15 characters (a Kubernetes port name)',
  });

/** How an app tells its clients apart. */
export const APP_AUTH = ['none', 'basic', 'login', 'token'] as const;
const appAuthSchema = z.enum(APP_AUTH, { error: `must be one of ${APP_AUTH.join(', ')}` });

const appPortSchema = strictObject({
  name: portNameSchema.describe('What the port is, e.g. http, api, grpc, metrics (unique within the app).'),
  port: port.describe('Port the container listens on.'),
  protocol: z
    .enum(['http', 'tcp', 'udp'], { error: 'must be one of http, tcp, udp' })
    .default('http')
    .describe('http (a client gets <NAME>_URL; routable through Caddy), tcp (any other TCP protocol), udp.'),
  auth: appAuthSchema.optional().describe('How this port authenticates, when it differs from the app\'s auth (e.g. a metrics port that answers anyone).'),
});

/** A path inside a container: absolute, in the same safe alphabet as host paths. */
const mountPathSchema = z.string().max(255, { error: 'must be at most 255 characters' }).regex(HOST_PATH, {
  error: 'must be an absolute path inside the container: "/" then segments of letters, digits, ".", "_" and "-", none of them "." or "..", without trailing "/"',
});

const appVolumeSchema = strictObject({
  name: z
    .string()
    .regex(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/, {
      error: 'must be a volume name: lowercase letters, digits and "-", starting with a letter, at most 22 characters (it becomes <app>-<name>)',
    })
    .optional()
    .describe('A volume the platform keeps for the app, named <app>-<name>: a named volume, a folder under storage.root in bind mode, a PersistentVolumeClaim on k3s.'),
  hostPath: hostPath.optional().describe('Instead of name: a folder of the node mounted as is (never created, sized or backed up by the platform).'),
  mountPath: mountPathSchema.describe('Where the container sees it: an absolute path.'),
  sizeGb: positive('GB').optional().describe('Expected size in GB (the claim size on k3s). Default 10. Named volumes only.'),
  backup: z
    .boolean()
    .optional()
    .describe('It holds state to back up (default true); false for a cache that can be rebuilt (downloaded models, build caches). Named volumes only.'),
  readOnly: z.boolean().default(false).describe('Mount it read-only.'),
});

const appHealthSchema = strictObject({
  http: z
    .string()
    .max(255, { error: 'must be at most 255 characters' })
    .regex(/^\/[A-Za-z0-9._~/%?=&+-]*$/, { error: 'must be a URL path starting with / (letters, digits and . _ ~ / % ? = & + -)' })
    .optional()
    .describe('An HTTP GET of this path must answer 2xx.'),
  port: port.optional().describe('Port of the http check (default: the app\'s first port).'),
  tcp: port.optional().describe('This port must accept TCP connections.'),
  command: z
    .array(z.string().min(1).max(4096).regex(/^[^\x00-\x1f\x7f]*$/, { error: 'must be one line without control characters' }))
    .min(1, { error: 'must list the program and its arguments' })
    .optional()
    .describe('A command run in the container that must exit 0, e.g. [pg_isready, -q].'),
  via: z
    .enum(['wget', 'curl', 'python', 'bash'], { error: 'must be one of wget, curl, python, bash' })
    .optional()
    .describe('The program in the image that runs an http/tcp check for Compose (default wget for http, bash for tcp); Kubernetes probes need none.'),
  startPeriodSeconds: z.number().int().min(0).optional().describe('Grace time after start before failures count (default 30; raise it for apps that load a model first).'),
});

const appMetricsSchema = strictObject({
  port: port.optional().describe('Port serving the metrics, one of the app\'s ports (default: its first port).'),
  path: z
    .string()
    .max(255, { error: 'must be at most 255 characters' })
    .regex(/^\/[A-Za-z0-9._~/%-]*$/, { error: 'must be a URL path starting with / (letters, digits and . _ ~ / % -)' })
    .default('/metrics')
    .describe('Path of the Prometheus metrics.'),
});

const appRoutesEntrySchema = routeSchema.extend({
  port: z
    .union([port, portNameSchema], { error: 'must be a port number or the name of one of the app\'s ports' })
    .optional()
    .describe('The app port this site proxies to, by number or name (default: the first port).'),
});

/** One argument of a command line: data in YAML only, never run through a shell. */
const argSchema = z.string().max(4096, { error: 'must be at most 4096 characters' }).regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, {
  error: 'must not contain control characters other than tab and newline',
});

const appSchema = strictObject({
  kind: z
    .enum(['container', 'static'], { error: 'must be one of container, static' })
    .default('container')
    .describe('container: an image the platform runs. static: built files Caddy serves (an SPA).'),
  image: imageSchema.optional().describe('Image with a concrete version tag (container apps).'),
  port: port.optional().describe('Shorthand for ports: [{name: http, port: <port>}], the one HTTP port the container listens on.'),
  ports: z.array(appPortSchema).min(1, { error: 'must list at least one port' }).optional().describe('Ports the container listens on, each with a name and protocol. The first is the one connections and routes use by default.'),
  command: z.array(argSchema).min(1, { error: 'must list the program' }).optional().describe("Replaces the image's entrypoint (Compose entrypoint, Kubernetes command)."),
  args: z.array(argSchema).min(1, { error: 'must list at least one argument' }).optional().describe("Replaces the image's arguments (Compose command, Kubernetes args)."),
  volumes: z.array(appVolumeSchema).default([]).describe('Data the app keeps ({name, mountPath, sizeGb, backup}) or host folders it reads ({hostPath, mountPath}).'),
  root: hostPath.optional().describe('Host folder with the built files (static apps), mounted into Caddy: an absolute path.'),
  node: nameSchema.optional().describe('Node to run on (default: the first GPU node for an app with GPUs, the first server otherwise).'),
  zone: nameSchema.default('edge').describe('Zone to run in.'),
  gpus: z
    .union([z.number().int().min(1, { error: 'must be a whole number of GPUs (1 or more) or "all"' }), z.literal('all')], {
      error: 'must be a whole number of GPUs (1 or more) or "all"',
    })
    .optional()
    .describe('GPUs the app asks for: reserved on Compose, nvidia.com/gpu on k3s, placed like the built-in GPU services.'),
  gpuDevices: z
    .array(z.number().int().min(0, { error: 'must be a GPU index (0 or more)' }))
    .min(1, { error: 'must list at least one GPU index' })
    .optional()
    .describe('Pin to these GPU indices of its node instead of automatic placement.'),
  vramGb: positive('GB of VRAM').optional().describe('VRAM the app keeps resident per GPU (weights and cache), counted in the VRAM budget.'),
  route: routeSchema.optional().describe('Shorthand for routes with one entry: publish the first port through Caddy at <host>.<domain>.'),
  routes: z.array(appRoutesEntrySchema).min(1, { error: 'must list at least one route' }).optional().describe('Sites through Caddy, each to one of the app\'s HTTP ports.'),
  auth: appAuthSchema
    .default('none')
    .describe('How the app authenticates its clients: none (answers anyone), basic (Caddy asks for a password on its routes), login (its own accounts), token (an API key or bearer token).'),
  health: appHealthSchema.optional().describe('How the platform tells it is healthy: {http: path, port}, {tcp: port} or {command: [...]} (default: http / on the first port).'),
  metrics: appMetricsSchema.optional().describe('Prometheus metrics endpoint: scraped by Prometheus and drawn in the graph.'),
  connects: z
    .array(nameSchema)
    .default([])
    .describe('Services or apps this app calls. Each adds <NAME>_HOST, <NAME>_PORT and <NAME>_URL to its environment.'),
  env: envSchema.default({}).describe('Non-secret environment variables.'),
  secrets: z.array(secretNameSchema).default([]).describe('Secrets passed as environment variables, by name (never values).'),
  healthPath: z
    .string()
    .max(255, { error: 'must be at most 255 characters' })
    .regex(/^\/[A-Za-z0-9._~/%?=&+-]*$/, { error: 'must be a URL path starting with / (letters, digits and . _ ~ / % ? = & + -)' })
    .optional()
    .describe('Shorthand for health: {http: <path>}: HTTP path on the first port that answers 200 when healthy (default /).'),
  egress: z.boolean().default(false).describe('Needs to reach the internet.'),
  cpus: positive('CPU cores').default(1).describe('CPU limit in cores.'),
  memoryGb: positive('GB').default(1).describe('Memory limit in GB.'),
});

const quotaSchema = strictObject({
  cpuRequests: positive('CPU cores').optional().describe('requests.cpu of the namespace, in cores.'),
  cpuLimits: positive('CPU cores').optional().describe('limits.cpu of the namespace, in cores.'),
  memoryRequestsGb: positive('GB').optional().describe('requests.memory of the namespace, in GB.'),
  memoryLimitsGb: positive('GB').optional().describe('limits.memory of the namespace, in GB.'),
});

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'must be a Kubernetes name: lowercase letters, digits and "-"' });

const k3sSchema = strictObject({
  storageClass: dnsLabel.default('local-path').describe('StorageClass of every PersistentVolumeClaim (k3s ships local-path).'),
  argocd: strictObject({
    repoURL: z
      .string()
      .max(2048, { error: 'must be at most 2048 characters' })
      .regex(/^(?:(?:https?|ssh|git):\/\/[A-Za-z0-9._~:/@%+-]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+)$/, {
        error: 'must be a git URL such as https://github.com/you/homelab.git or git@github.com:you/homelab.git',
      })
      .default('https://github.com/example/homelab.git').describe('Git repository ArgoCD reads the synthesized manifests from.'),
    targetRevision: z
      .string()
      .max(255, { error: 'must be at most 255 characters' })
      .regex(/^(?!.*\.\.)[A-Za-z0-9._/-]+$/, { error: 'must be a branch, tag or commit: letters, digits, ".", "_", "/" and "-"' })
      .default('main').describe('Branch, tag or commit ArgoCD follows.'),
    path: repoPath
      .default('dist/k3s')
      .describe('Folder of the k3s output inside that repository.'),
    namespace: dnsLabel.default('argocd').describe('Namespace ArgoCD runs in.'),
    project: dnsLabel.default('default').describe('ArgoCD project of every Application.'),
  })
    .default({ repoURL: 'https://github.com/example/homelab.git', targetRevision: 'main', path: 'dist/k3s', namespace: 'argocd', project: 'default' })
    .describe('Where ArgoCD finds the manifests.'),
  quotas: z
    .record(nameSchema, quotaSchema)
    .default({})
    .describe("ResourceQuota per zone namespace, overriding the default figures (never below what the zone's pods ask for)."),
  sealedSecretsPath: repoPath
    .optional()
    .describe('Folder of SealedSecrets in the repository: adds an ArgoCD Application that syncs it before the stacks.'),
})
  .default({
    storageClass: 'local-path',
    argocd: { repoURL: 'https://github.com/example/homelab.git', targetRevision: 'main', path: 'dist/k3s', namespace: 'argocd', project: 'default' },
    quotas: {},
  })
  .describe('k3s target: storage, ArgoCD, quotas.');

const REFERENCE_NODES = {
  homelab: { role: 'server' as const, address: '192.168.1.10', interface: 'eth0', cpus: 16, memoryGb: 128, diskGb: 2000, gpus: [] },
  rtx: {
    role: 'gpu' as const,
    address: '192.168.1.11',
    interface: 'eth0',
    cpus: 16,
    memoryGb: 64,
    diskGb: 2000,
    gpus: [{ model: 'RTX 4090', vramGb: 24, vendor: 'nvidia' as const }],
  },
};

export const REFERENCE_ZONES = {
  dmz: { vlan: 10, subnet: '10.0.10.0/24', isolated: false, driver: 'bridge' as const, multus: false, description: 'edge DNS' },
  edge: { vlan: 20, subnet: '10.0.20.0/24', isolated: false, driver: 'bridge' as const, multus: false, description: 'proxy, gateways, user-facing apps' },
  gpu: { vlan: 30, subnet: '10.0.30.0/24', isolated: true, driver: 'bridge' as const, multus: false, description: 'isolated GPU inference' },
  services: { vlan: 40, subnet: '10.0.40.0/24', isolated: true, driver: 'bridge' as const, multus: false, description: 'data and search' },
  monitoring: { vlan: 50, subnet: '10.0.50.0/24', isolated: true, driver: 'bridge' as const, multus: false, description: 'observability' },
};

export const configSchema = strictObject({
  domain: z
    .string()
    .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
      error: 'must be a lowercase DNS domain such as example.com',
    })
    .default('example.com')
    .describe('Your domain. Every route is <name>.<domain>.'),
  acmeEmail: z.email({ error: 'must be an e-mail address' }).default('admin@example.com').describe("E-mail for Let's Encrypt."),
  exposure: z
    .enum(['public', 'tailnet', 'lan'], { error: 'must be one of public, tailnet, lan' })
    .default('public')
    .describe(
      'public: 80/443/53 forwarded from the router to the edge node. tailnet: nothing public, ports bind to Tailscale ' +
        'addresses. lan: ports bind to LAN addresses only.',
    ),
  tls: z
    .enum(['acme', 'internal'], { error: 'must be one of acme, internal' })
    .optional()
    .describe("acme: Let's Encrypt (needs exposure public). internal: Caddy's own CA. Default: acme when public, else internal."),
  nodes: z.record(nameSchema, nodeSchema).default(REFERENCE_NODES).describe('Machines of the homelab, by name.'),
  zones: z.record(nameSchema, zoneSchema).default(REFERENCE_ZONES).describe('Network segments (VLANs), by name.'),
  services: z
    .partialRecord(serviceNameSchema, serviceSettingsSchema)
    .default({})
    .describe('Per-service overrides: enabled, node, zone, GPUs, resources, extra env.'),
  images: z
    .partialRecord(serviceNameSchema, imageSchema)
    .default({})
    .describe('Image overrides by service, each with a concrete version tag.'),
  models: strictObject({
    ollama: z.array(ollamaModelSchema).default(REFERENCE_OLLAMA_MODELS).describe('Models Ollama pulls and LiteLLM serves.'),
    comfyui: z
      .array(z.enum(COMFYUI_MODEL_SETS, { error: `must be one of ${COMFYUI_MODEL_SETS.join(', ')}` }))
      .default(['sdxl'])
      .describe('Model sets comfyui-models downloads (flux-dev is gated: it needs HF_TOKEN).'),
    vram: z
      .partialRecord(z.enum(GPU_MODEL_NAMES, { error: `must be one of ${GPU_MODEL_NAMES.join(', ')}` }), positive('GB of VRAM'))
      .default({})
      .describe('VRAM in GB of the non-Ollama models, overriding the reference table (e.g. cogvideox-5b: 5 with every optimization).'),
  })
    .default({ ollama: REFERENCE_OLLAMA_MODELS, comfyui: ['sdxl'], vram: {} })
    .describe('Models to pull and serve.'),
  ollama: strictObject({
    numParallel: z.number().int().min(1).default(2).describe('OLLAMA_NUM_PARALLEL: requests served at once per model.'),
    maxLoadedModels: z.number().int().min(1).default(2).describe('OLLAMA_MAX_LOADED_MODELS: models resident at once.'),
    keepAlive: z
      .string()
      .regex(/^(?:-1|0|[0-9]{1,9}|(?:[0-9]{1,9}(?:\.[0-9]+)?(?:ns|us|ms|s|m|h))+)$/, {
        error: 'must be a duration such as 5m, 1h30m or 300 (seconds), 0 (unload at once) or -1 (keep loaded)',
      })
      .default('5m').describe('OLLAMA_KEEP_ALIVE: how long an idle model stays loaded.'),
  })
    .default({ numParallel: 2, maxLoadedModels: 2, keepAlive: '5m' })
    .describe('Ollama tuning.'),
  litellm: strictObject({
    spendLogs: z.boolean().default(false).describe('Store spend logs in Postgres (adds litellm -> postgres).'),
    cache: z.boolean().default(false).describe('Cache responses in Valkey (adds litellm -> valkey).'),
    keyLimits: keyLimitsSchema
      .default({ rpm: 600, models: {} })
      .describe('Defaults of every virtual key made with /key/generate (needs spendLogs: keys live in Postgres). The master key is not limited.'),
  })
    .default({ spendLogs: false, cache: false, keyLimits: { rpm: 600, models: {} } })
    .describe('LiteLLM gateway options.'),
  postgres: strictObject({
    vectors: z
      .union([z.boolean(), z.array(nameSchema)], { error: 'must be true, false or a list of database names' })
      .default(false)
      .describe(
        'pgvector: true creates the vector extension in every database made for an app or listed in databases; ' +
          'a list creates it in those databases only. Either turns on the pgvector image (Debian, like the default image).',
      ),
    databases: z
      .array(nameSchema)
      .default([])
      .describe('Extra databases, each with its own login role and password secret PG_<NAME>_PASSWORD (apps that connect get their own).'),
  })
    .default({ vectors: false, databases: [] })
    .describe('Postgres options. Every client gets its own database and non-superuser role, created on every deploy.'),
  minio: strictObject({
    host: nameSchema.default('s3').describe('Subdomain the S3 API is routed at (presigned URLs point there): <host>.<domain>.'),
    cors: z
      .array(nameSchema)
      .default([])
      .describe(
        'Route hosts whose pages may call the S3 API from a browser, beyond those derived from the routed apps that connect to minio (their host and their cors).',
      ),
  })
    .default({ host: 's3', cors: [] })
    .describe('MinIO options.'),
  monitoring: strictObject({
    retentionDays: z.number().int().min(1).default(30).describe('Prometheus TSDB retention in days.'),
    ntfyTopic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/, { error: 'must be 1-64 letters, digits, "-" or "_"' }).default('alerts').describe('ntfy topic alerts are sent to.'),
  })
    .default({ retentionDays: 30, ntfyTopic: 'alerts' })
    .describe('Monitoring options.'),
  dns: strictObject({
    ipLookup: z
      .string()
      .max(2048, { error: 'must be at most 2048 characters' })
      .regex(/^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~/%-]*)?$/, {
        error: 'must be an http(s) URL of letters, digits and . _ ~ / % - (no query, spaces, quotes or ","), such as https://checkip.amazonaws.com',
      })
      .default('https://checkip.amazonaws.com').describe('Where ddclient asks for the public IP.'),
    updateSeconds: z.number().int().min(60).default(300).describe('How often ddclient checks the public IP.'),
  })
    .default({ ipLookup: 'https://checkip.amazonaws.com', updateSeconds: 300 })
    .describe('Dynamic DNS options.'),
  storage: strictObject({
    mode: z
      .enum(['volume', 'bind'], { error: 'must be one of volume, bind' })
      .default('volume')
      .describe('volume: Docker named volumes. bind: folders under root (easy to back up, e.g. a cold-storage disk).'),
    root: hostPath.default('/cold-storage').describe('Root folder for bind mode.'),
  })
    .default({ mode: 'volume', root: '/cold-storage' })
    .describe('Where service data lives.'),
  basicAuthUser: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, { error: 'must be a lowercase user name: a-z, 0-9, "_" and "-", starting with a letter, at most 32 characters' }).default('admin').describe('User name for the basic-auth protected sites.'),
  coolify: strictObject({
    magicSecrets: z
      .boolean()
      .default(false)
      .describe("Use Coolify's generated SERVICE_PASSWORD_* variables for secrets used within a single stack."),
  })
    .default({ magicSecrets: false })
    .describe('Coolify options.'),
  apps: z.record(nameSchema, appSchema).default({}).describe('Your own apps (Hono API, React SPA, workers), by name.'),
  k3s: k3sSchema,
  backup: backupSchema(hostPath, nameSchema),
});

/** What the user writes (defaults optional). */
export type PlatformConfigInput = z.input<typeof configSchema>;
/** What the code reads: every default applied. */
export type PlatformConfig = z.output<typeof configSchema>;
export type NodeConfig = PlatformConfig['nodes'][string];
export type ZoneConfig = PlatformConfig['zones'][string];
export type AppConfig = PlatformConfig['apps'][string];
export type AppAuth = (typeof APP_AUTH)[number];
export type OllamaModelConfig = PlatformConfig['models']['ollama'][number];
export type ServiceSettings = z.output<typeof serviceSettingsSchema>;
export type QuotaConfig = z.output<typeof quotaSchema>;

/** The JSON Schema of platform.yaml, for editors (yaml-language-server) and `platform schema`. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'platform.yaml', description: 'Self-hosted AI homelab platform definition.' };
}
