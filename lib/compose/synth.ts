import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { generatedHeader, toYaml } from '../output/yaml.js';
import type { RenderedFile } from '../output/writer.js';
import { renderEnvExample, renderNetworksScript, renderStackReadme, renderTreeReadme } from './docs.js';
import { ComposeResolver } from './resolver.js';
import { renderStorageScript } from './storage.js';
import { renderComposeBackup } from './backup.js';
import {
  composeConfigs,
  buildContextPath,
  configFilePath,
  magicVariable,
  renderComposeService,
  requiredVariable,
  type ComposeFlavor,
  type SecretStyle,
} from './service.js';
import {
  composeUnits,
  sameFileDependencies,
  secretUsage,
  unitSecrets,
  UPLINK_NETWORK,
  type ComposeUnit,
} from './units.js';

export interface ComposeSynthOptions {
  /**
   * coolify: for a Coolify Docker Compose application deployed raw (config files inline as Compose
   * `configs`, no profiles: profiled services in files of their own). plain: config files beside
   * compose.yaml, profiles, for `docker compose up`.
   */
  readonly flavor: ComposeFlavor;
}

/** Decide, per compose file, which secrets Coolify generates and which the owner sets. */
export function secretStyleFor(platform: Platform, unit: ComposeUnit, usage: Map<string, Set<string>>, flavor: ComposeFlavor): {
  style: SecretStyle;
  magic: Map<string, string>;
} {
  const magic = new Map<string, string>();
  if (flavor === 'coolify' && platform.config.coolify.magicSecrets) {
    for (const secret of unitSecrets(unit)) {
      const variable = magicVariable(secret);
      // Coolify generates per stack: a secret shared with another compose file must be set by hand.
      if (variable && usage.get(secret.name)?.size === 1) magic.set(secret.name, variable);
    }
  }
  const style: SecretStyle = (secret: Secret) => {
    const variable = magic.get(secret.name);
    return variable ? `\${${variable}}` : requiredVariable(secret);
  };
  return { style, magic };
}

function renderUnit(platform: Platform, unit: ComposeUnit, flavor: ComposeFlavor, style: SecretStyle) {
  const plan = platform.linkPlan;
  const services: Record<string, unknown> = {};
  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const service of unit.services) {
    const joined = plan.networks(service, unit.node);
    joined.forEach((n) => networks.add(n));
    if (platform.config.storage.mode === 'volume') {
      for (const v of service.volumesFor('compose')) if (!('hostPath' in v)) volumes.add(v.name);
    }
    services[service.name] = renderComposeService(service, {
      platform,
      node: unit.node,
      flavor,
      secretStyle: style,
      networks: joined,
      published: plan.publishedBy(service, unit.node).map((p) => ({ port: p.port, protocol: p.protocol })),
      dependsOn: sameFileDependencies(platform, service, unit),
    });
  }
  const doc: Record<string, unknown> = {
    name: unit.name,
    services,
    networks: Object.fromEntries([...networks].sort().map((n) => [n, { external: true }])),
  };
  if (volumes.size > 0) doc.volumes = Object.fromEntries([...volumes].sort().map((v) => [v, {}]));
  if (flavor === 'coolify') {
    const configs = composeConfigs(unit.services, unit.node);
    if (Object.keys(configs).length > 0) doc.configs = configs;
  }
  const header =
    generatedHeader(`Stack ${unit.name} on node ${unit.node.name}`) +
    `# Networks: run ../networks.sh on ${unit.node.name} first. Variables: see .env.example.\n`;
  return header + toYaml(doc);
}

export interface ComposeSynthResult {
  readonly files: RenderedFile[];
  readonly units: readonly ComposeUnit[];
}

/** Render the whole Compose tree: per node a networks.sh, per node and stack a compose.yaml, .env.example and README. */
export function synthCompose(platform: Platform, options: ComposeSynthOptions): ComposeSynthResult {
  const units = composeUnits(platform, { splitProfiles: options.flavor === 'coolify' });
  const usage = secretUsage(units);
  const files: RenderedFile[] = [];

  for (const node of platform.deployedNodes) {
    const nodeUnits = units.filter((u) => u.node === node);
    if (nodeUnits.length === 0) continue;
    files.push({ path: `${node.name}/networks.sh`, content: renderNetworksScript(node, platform.linkPlan.nodeNetworks(node)), mode: 0o755 });
    if (platform.config.storage.mode === 'bind') {
      files.push({ path: `${node.name}/storage.sh`, content: renderStorageScript(platform, node, nodeUnits), mode: 0o755 });
    }
  }

  for (const unit of units) {
    const published = platform.linkPlan.published(unit.node);
    const { style, magic } = secretStyleFor(platform, unit, usage, options.flavor);
    files.push({ path: `${unit.dir}/compose.yaml`, content: renderUnit(platform, unit, options.flavor, style) });
    files.push({ path: `${unit.dir}/.env.example`, content: renderEnvExample(unit, magic) });
    files.push({ path: `${unit.dir}/README.md`, content: renderStackReadme(platform, unit, options.flavor, published, magic, units) });
    // Build contexts in both flavours: Coolify builds them when the stack is deployed from the
    // repository holding dist/ (a pasted compose file cannot carry them).
    for (const service of unit.services) {
      for (const file of service.build?.files ?? []) {
        files.push({ path: `${unit.dir}/${buildContextPath(service)}/${file.name}`, content: file.content });
      }
    }
    if (options.flavor === 'plain') {
      for (const service of unit.services) {
        const resolver = new ComposeResolver(service, unit.node);
        for (const file of service.configFiles) {
          const path = `${unit.dir}/${configFilePath(service, file.name)}`;
          files.push(file.executable ? { path, content: file.content(resolver), mode: 0o755 } : { path, content: file.content(resolver) });
        }
      }
    }
  }
  files.push(...renderComposeBackup(platform, options.flavor));
  files.push({ path: 'README.md', content: renderTreeReadme(platform, units, options.flavor) });
  return { files, units };
}

export { UPLINK_NETWORK };
