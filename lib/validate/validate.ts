import { ConfigError, describeIssue } from '../config/errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { Platform } from '../model/platform.js';
import { buildPlatform, checkK3s } from '../synth.js';
import { checkPlatform, summarizeFindings, type LocatedFinding, type Validation } from './check.js';
import { sortFindings } from './rules.js';

/** Config errors (schema, cross-field, placement, k3s) become findings of their rule. */
function fromConfigError(err: ConfigError): LocatedFinding[] {
  return err.issues.map((issue) => {
    const { location, detail } = describeIssue(issue, err.source);
    return {
      rule: issue.rule ?? 'config',
      severity: 'error',
      path: issue.path,
      message: detail,
      fix: 'change the key as the message says',
      file: err.source.file,
      line: location?.line,
      column: location?.column,
    };
  });
}

/**
 * Every check `platform synth` makes, as findings: the model rules, and whatever stops either
 * target from rendering. A file that cannot be read or parsed is not a finding: it throws.
 */
export async function validate(load: () => LoadedConfig): Promise<Validation> {
  let loaded: LoadedConfig;
  let platform: Platform;
  try {
    loaded = load();
    platform = buildPlatform(loaded);
    await checkK3s(loaded, platform);
  } catch (err) {
    if (err instanceof ConfigError && err.issues.length > 0) {
      return summarizeFindings(err.source.file, sortFindings(fromConfigError(err)) as LocatedFinding[], []);
    }
    throw err;
  }
  return checkPlatform(platform, loaded.source);
}
