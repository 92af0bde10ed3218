import { App } from 'cdk8s';
import { ArgoCdChart } from './argocd-chart.js';
import { BackupChart } from './backup-chart.js';
import { backupPlan } from '../lib/services/backup.js';
import type { K3sContext } from './context.js';
import { NamespacesChart } from './namespaces-chart.js';
import { NetworkPoliciesChart } from './network-policies-chart.js';
import type { Manifest, OutputChart } from './output-chart.js';
import { StackChart } from './stack-chart.js';
import { multusNodes, multusZones, nodeVlanScript, VlansChart } from './vlans.js';
import { ConfigIssues, type ConfigIssue } from '../lib/config/errors.js';
import type { Platform } from '../lib/model/platform.js';
import type { RenderedFile } from '../lib/output/writer.js';
import { generatedHeader, toYaml } from '../lib/output/yaml.js';
import { BUILD_CONTEXTS_FOLDER, renderK3sReadme } from './docs.js';
import { renderSecretsReadme, renderSecretsScript } from '../lib/k3s/secrets.js';
import { gpuSharingNotes } from '../lib/k3s/gpu-sharing.js';

export interface K3sSynthResult {
  readonly files: RenderedFile[];
  /** Every rendered object, by file path. */
  readonly manifests: ReadonlyMap<string, Manifest>;
  /** What the k3s output does differently from Compose (GPU sharing), for the summary and README. */
  readonly notes: readonly string[];
}

/** The cdk8s app of the platform: platform charts, then one chart per stack. */
export function buildK3sApp(platform: Platform): { app: App; charts: OutputChart[]; context: K3sContext } {
  const issues: ConfigIssue[] = [];
  const context: K3sContext = { platform, gpuSharing: platform.gpuAssignment.nodes };
  const app = new App();
  const charts: OutputChart[] = [new NamespacesChart(app, platform, issues), new NetworkPoliciesChart(app, platform)];
  if (multusZones(platform).length > 0) charts.push(new VlansChart(app, platform, issues));
  for (const stack of platform.stacks) {
    if (stack.services.length > 0) charts.push(new StackChart(app, stack, context));
  }
  if (backupPlan(platform)) charts.push(new BackupChart(app, context));
  charts.push(new ArgoCdChart(app, context));
  if (issues.length > 0) throw new ConfigIssues(issues);
  return { app, charts, context };
}

function describe(manifest: Manifest): string {
  const ns = manifest.metadata.namespace;
  return `${manifest.kind} ${ns ? `${ns}/` : ''}${manifest.metadata.name}`;
}

/** Render the k3s tree in memory: one file per object, READMEs, the secrets template. */
export function synthK3s(platform: Platform): K3sSynthResult {
  const { charts, context } = buildK3sApp(platform);
  const files: RenderedFile[] = [];
  const manifests = new Map<string, Manifest>();
  for (const chart of charts) {
    for (const manifest of chart.toJson() as Manifest[]) {
      const path = `${chart.folder}/${chart.fileName(manifest)}`;
      if (manifests.has(path)) throw new Error(`two objects render to ${path}`);
      manifests.set(path, manifest);
      files.push({ path, content: generatedHeader(describe(manifest)) + toYaml(manifest) });
    }
  }
  const notes = gpuSharingNotes(platform, context.gpuSharing);
  for (const service of platform.services) {
    if (service.external) continue;
    for (const file of service.build?.files ?? []) files.push({ path: `${BUILD_CONTEXTS_FOLDER}/${service.name}/${file.name}`, content: file.content });
  }
  files.push({ path: 'README.md', content: renderK3sReadme(context, notes) });
  files.push({ path: 'secrets/README.md', content: renderSecretsReadme(platform) });
  files.push({ path: 'secrets/create-secrets.sh', content: renderSecretsScript(platform), mode: 0o755 });
  for (const node of multusNodes(platform)) files.push({ path: `nodes/${node.name}/vlans.sh`, content: nodeVlanScript(platform, node), mode: 0o755 });
  return { files, manifests, notes };
}
