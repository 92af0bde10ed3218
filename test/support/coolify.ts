/**
 * What Coolify does to a compose file deployed as a Git-based Docker Compose application with
 * "Raw Compose Deployment" on, and what Docker Compose then makes of it. No Coolify runs here: this
 * encodes coollabsio/coolify at commit 379abb252621f34b318190bd49b614aed9818716 (config/constants.php
 * line 5: version 4.3.11), each step citing the file and line it follows.
 */
import { parse } from 'yaml';
import { interpolate, parseDotenv } from './compose-interpolation.js';

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

/**
 * Deploy `composeText` as Coolify 4.3.11 does for a raw-compose application, with `variables` set in
 * its Environment Variables. Throws what `docker compose` would refuse with (a required variable
 * without a value).
 */
export function coolifyRawDeploy(composeText: string, variables: Readonly<Record<string, CoolifyVariable>>, applicationId = 1): RawDeployment {
  // app/Models/Application.php loadComposeFile, lines 2198-2200: the file from Git becomes
  // docker_compose_raw and is parsed once by applicationParser.
  const raw = parse(composeText) as { services: Record<string, DeployedService> } & Record<string, unknown>;

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
  const started = Object.entries(compose.services)
    .filter(([, s]) => (s.profiles ?? []).length === 0)
    .map(([name]) => name)
    .sort();
  return { envFile, compose, started };
}
