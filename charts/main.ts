/*
 * Entry point of `cdk8s synth` (see cdk8s.yaml): renders the same tree as
 * `platform synth --target k3s`, into the folder the cdk8s CLI names (CDK8S_OUTDIR).
 * The config is $PLATFORM_CONFIG, or the embedded reference platform when it is unset.
 */
import { basename, dirname } from 'node:path';
import { ConfigError } from '../lib/config/errors.js';
import { loadConfigFile, referenceConfig } from '../lib/config/load.js';
import { writeTree } from '../lib/output/writer.js';
import { renderK3s } from '../lib/synth.js';

const outdir = process.env.CDK8S_OUTDIR ?? 'dist/k3s';
const configFile = process.env.PLATFORM_CONFIG;

try {
  const loaded = configFile ? loadConfigFile(configFile) : referenceConfig();
  const { output } = await renderK3s(loaded);
  writeTree(dirname(outdir), basename(outdir), output.files);
} catch (err) {
  process.stderr.write(err instanceof ConfigError ? `error: invalid config\n${err.message}\n` : `error: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
