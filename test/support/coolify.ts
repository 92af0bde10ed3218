/**
 * What Coolify does to a compose file deployed as a Git-based Docker Compose application with
 * "Raw Compose Deployment" on, and what Docker Compose then makes of it. No Coolify runs here: this
 * encodes coollabsio/coolify at commit 379abb252621f34b318190bd49b614aed9818716 (config/constants.php
 * line 5: version 4.3.11), each step citing the file and line it follows.
 */
import { stringify } from 'yaml';
import { interpolate, parseDotenv } from './compose-interpolation.js';
import { deepFreeze, RenderCache } from './render.js';
import { readYaml } from './yaml.js';

/** A variable as saved in the application's Environment Variables. */
export interface CoolifyVariable {
  readonly value: string;
  /** The "Is Literal?" checkbox. @default false */
  readonly literal?: boolean;
}

export type DeployedService = Record<string, unknown> & {
  environment?: Record<string, string>;
  env_file?: string[];
  networks?: string[] | Record<string, unknown>;
  volumes?: (Record<string, unknown> | string)[];
  configs?: { source: string; target: string }[];
  labels?: string[];
  profiles?: string[];
};

export interface RawDeployment {
  /** The compose file Coolify writes on the server, before Compose interpolates it. */
  readonly written: string;
  /** The .env Coolify writes next to the compose file. */
  readonly envFile: string;
  /** The compose model after Compose's interpolation, as `docker compose up -d` creates it. */
  readonly compose: { services: Record<string, DeployedService>; networks?: Record<string, unknown>; configs?: Record<string, { content: string }> } & Record<string, unknown>;
  /** Services `up -d` starts: Coolify passes no --profile. */
  readonly started: string[];
}

/** bootstrap/helpers/docker.php escapeEnvVariables (lines 1516-1522). */
export function escapeEnvVariables(value: string): string {
  return value.replace(/[\\\r\t\0"']/g, (c) => ({ '\\': '\\\\', '\r': '\\r', '\t': '\\t', '\0': '\\0', '"': '\\"', "'": "\\'" })[c] as string);
}

/** One .env line: app/Models/EnvironmentVariable.php getResolvedValueWithServer (lines 296-300). */
export function envLine(key: string, variable: CoolifyVariable): string {
  const value = variable.literal ? `'${variable.value}'` : escapeEnvVariables(variable.value);
  return `${key}=${value}`;
}

/** What Coolify writes for a compose file, before any variable is read: the same for every deploy of it. */
interface RawRewrite {
  readonly raw: { services: Record<string, DeployedService> } & Record<string, unknown>;
  readonly written: string;
}

/**
 * Deploys of the same file are common (every unit of every config, and again once per required
 * variable left empty), and parsing the YAML is most of a deploy's cost: the rewrite of each text
 * is made once and frozen, and each whole deployment once per (text, variables, application).
 * Callers only read a deployment; the freeze makes any attempt to change one throw.
 */
const parsed = new RenderCache<unknown>(256);
const rewrites = new RenderCache<RawRewrite>(256);

/** `composeText` parsed, once per text, frozen: read it, or `structuredClone` it to change it. */
export function parseCompose(composeText: string): Readonly<{ services: Record<string, DeployedService> } & Record<string, unknown>> {
  return parsed.get(composeText, () => deepFreeze(readYaml(composeText))) as { services: Record<string, DeployedService> } & Record<string, unknown>;
}
const deployments = new RenderCache<RawDeployment>(512);

function rawRewrite(composeText: string, applicationId: number): RawRewrite {
  return rewrites.get(`${applicationId}\u0000${composeText}`, () => {
    // app/Models/Application.php loadComposeFile, lines 2198-2200: the file from Git becomes
    // docker_compose_raw and is parsed once by applicationParser.
    const raw = structuredClone(parseCompose(composeText)) as RawRewrite['raw'];

    // bootstrap/helpers/parsers.php lines 1515-1534: applicationParser rewrites docker_compose_raw
    // without `content`, `isDirectory`, `is_directory` on long-syntax volumes (Yaml::dump keeps the rest).
    for (const service of Object.values(raw.services)) {
      for (const volume of service.volumes ?? []) {
        if (typeof volume === 'object') {
          delete volume.content;
          delete volume.isDirectory;
          delete volume.is_directory;
        }
      }
    }

    // app/Jobs/ApplicationDeploymentJob.php lines 685-687: raw mode calls oldRawParser and deploys
    // docker_compose_raw; lines 696-702 (env_file: .env on every service) are the parsed mode only.
    // app/Models/Application.php oldRawParser, lines 2072-2082: three labels per service, nothing else.
    for (const service of Object.values(raw.services)) {
      const labels = [...(service.labels ?? [])];
      for (const label of ['coolify.managed=true', `coolify.applicationId=${applicationId}`, 'coolify.type=application']) {
        if (!labels.includes(label)) labels.push(label);
      }
      service.labels = labels;
    }
    return deepFreeze({ raw, written: stringify(raw) });
  });
}

/**
 * Deploy `composeText` as Coolify 4.3.11 does for a raw-compose application, with `variables` set in
 * its Environment Variables. Throws what `docker compose` would refuse with (a required variable
 * without a value). The deployment is frozen (see `deployments`).
 */
export function coolifyRawDeploy(composeText: string, variables: Readonly<Record<string, CoolifyVariable>>, applicationId = 1): RawDeployment {
  const key = [applicationId, JSON.stringify(Object.entries(variables).map(([k, v]) => [k, v.value, v.literal === true])), composeText].join('\u0000');
  return deployments.get(key, () => {
    const { raw, written } = rawRewrite(composeText, applicationId);

    // ApplicationDeploymentJob.php generate_runtime_environment_variables, lines 1367-1376 and 1393-1395:
    // SERVICE_NAME_<SERVICE> for each service, then every saved variable.
    const lines = Object.keys(raw.services).map((name) => `SERVICE_NAME_${name.replace(/[-.]/g, '_').toUpperCase()}=${name}`);
    for (const [key, variable] of Object.entries(variables)) lines.push(envLine(key, variable));
    const envFile = lines.join('\n');

    // ApplicationDeploymentJob.php lines 848-850: `docker compose --env-file <workdir>/.env
    // --project-directory <workdir> -f <workdir>/docker-compose.yaml up -d`. Compose reads the .env
    // (dotenv rules) and interpolates every value of the file with it.
    const env = parseDotenv(envFile);
    const compose = interpolate(raw, (name) => env.get(name)) as RawDeployment['compose'];
    // Compose starts a service with `profiles` only when one of them is enabled; no --profile is passed.
    const started = startedWithoutProfiles(compose);
    return deepFreeze({ written, envFile, compose, started });
  });
}

const startedWithoutProfiles = (compose: RawDeployment['compose']) =>
  Object.entries(compose.services)
    .filter(([, s]) => (s.profiles ?? []).length === 0)
    .map(([name]) => name)
    .sort();

/**
 * The other way in: + New > Docker Compose Empty, the file pasted (a Coolify "Service"). Encodes
 * serviceParser (bootstrap/helpers/parsers.php, lines 1546-2807) and StartService
 * (app/Actions/Service/StartService.php) at the same commit. The READMEs steer away from this path;
 * the tests show why.
 */
export function coolifyServiceDeploy(composeText: string, variables: Readonly<Record<string, CoolifyVariable>>, uuid = 'k8s0c0olify0uuid'): RawDeployment {
  const yaml = structuredClone(parseCompose(composeText)) as { services: Record<string, DeployedService>; networks?: Record<string, unknown> } & Record<string, unknown>;
  const topNetworks = { ...(yaml.networks ?? {}) };
  const workdir = `/data/coolify/services/${uuid}`;
  for (const service of Object.values(yaml.services)) {
    // lines 2125-2283: every bind becomes the string `source:target`; the mode comes only from a
    // short-syntax string (`$parsed['mode']`), so a long-syntax `read_only: true` is dropped.
    // Relative sources move under the service's folder (replaceLocalSource, shared.php 1651-1666).
    service.volumes = (service.volumes ?? []).map((volume) => {
      if (typeof volume === 'string') return volume;
      if (volume.type !== 'bind') return Object.fromEntries(Object.entries(volume).filter(([k]) => !['content', 'isDirectory', 'is_directory'].includes(k)));
      const source = String(volume.source).replace(/^\./, workdir);
      return `${source}:${String(volume.target)}`;
    });
    if (service.volumes.length === 0) delete service.volumes;
    // lines 2289-2320 and 2339-2356: every network of the file, plus the stack's own `<uuid>`
    // network, which StartService creates without --internal (StartService.php line 40).
    const own = Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});
    service.networks = [...new Set([...own, ...Object.keys(topNetworks).filter((n) => n !== 'default'), uuid])];
    // lines 2396-2431: `KEY: ${VAR:?}` is replaced by the saved value of VAR (`$environment[$varName] = $envVar->value`).
    const environment = { ...(service.environment ?? {}) };
    for (const [key, value] of Object.entries(environment)) {
      const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])[^}]*\}$/.exec(value);
      if (match && !(match[1] as string).startsWith('SERVICE_')) environment[match[1] as string] = variables[match[1] as string]?.value ?? '';
      if (match && match[1] !== key) environment[key] = value;
    }
    if (Object.keys(environment).length > 0) service.environment = environment;
    // lines 2704-2710: exclude_from_hc is removed; lines 2745-2751: every container gets the whole .env.
    delete service.exclude_from_hc;
    service.env_file = ['.env'];
  }
  yaml.networks = { ...topNetworks, [uuid]: { name: uuid, external: true } };
  // app/Models/Service.php saveComposeConfigs, lines 1608-1640: SERVICE_NAME_* and every variable.
  const lines = Object.keys(yaml.services).map((name) => `SERVICE_NAME_${name.replace(/[-.]/g, '_').toUpperCase()}=${name}`);
  for (const [key, variable] of Object.entries(variables)) lines.push(envLine(key, variable));
  const envFile = lines.join('\n');
  const env = parseDotenv(envFile);
  // StartService.php line 43: `docker compose --project-directory <workdir> -f docker-compose.yml up -d`.
  const compose = interpolate(yaml, (name) => env.get(name)) as RawDeployment['compose'];
  return { written: stringify(yaml), envFile, compose, started: startedWithoutProfiles(compose) };
}
