import { locate, type ConfigSource } from '../config/errors.js';
import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';
import { validatePlatform } from './rules.js';
import { egressReport, type Egress } from './sovereignty.js';

/** A finding with where it is in the file. */
export interface LocatedFinding extends Finding {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

export interface Validation {
  readonly file: string;
  readonly findings: readonly LocatedFinding[];
  /** Destinations outside the homelab (empty when the config could not be built). */
  readonly egress: readonly Egress[];
  readonly errors: number;
  readonly warnings: number;
}

export function located(findings: readonly Finding[], source: ConfigSource): LocatedFinding[] {
  return findings.map((f) => {
    const at = locate(f.path, source);
    return { ...f, file: source.file, line: at?.line, column: at?.column };
  });
}

export function summarizeFindings(file: string, findings: LocatedFinding[], egress: Egress[]): Validation {
  return {
    file,
    findings,
    egress,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

/** The model rules over an already built platform: what `platform synth` checks before writing. */
export function checkPlatform(platform: Platform, source: ConfigSource): Validation {
  return summarizeFindings(source.file, located(validatePlatform(platform), source), egressReport(platform));
}
