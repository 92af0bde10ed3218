/*
 * Entry point of `cdk8s synth` (see cdk8s.yaml): renders the same tree as
 * `platform synth --target k3s`, into the folder the cdk8s CLI names (CDK8S_OUTDIR).
 * The config is $PLATFORM_CONFIG, or the embedded reference platform when it is unset.
 */
import { basename, dirname } from 'node:path';
import { ConfigError } from '../lib/config/errors.js';
import { loadConfigFile, referenceConfig } from '../lib/config/load.js';
import { writeTree } from '../lib/output/writer.js';
import { renderTargets, ValidationFailed } from '../lib/synth.js';
import { formatRefusal } from '../lib/validate/report.js';

const outdir = process.env.CDK8S_OUTDIR ?? 'dist/k3s';
const configFile = process.env.PLATFORM_CONFIG;

try {
  const loaded = configFile ? loadConfigFile(configFile) : referenceConfig();
  const { outputs } = await renderTargets(loaded, 'k3s', 'coolify');
  for (const output of outputs) writeTree(dirname(outdir), basename(outdir), output.files);
} catch (err) {
  if (err instanceof ConfigError) process.stderr.write(`error: invalid config\n${err.message}\n`);
  else if (err instanceof ValidationFailed) process.stderr.write(formatRefusal(err.validation));
  else process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = err instanceof ConfigError || err instanceof ValidationFailed ? 2 : 1;
}
