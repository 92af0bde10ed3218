import type { ConfigPath } from '../config/errors.js';
import type { Platform } from '../model/platform.js';

export type Severity = 'error' | 'warning';

/** One thing `platform validate` found: what, where in platform.yaml, and how to get out of it. */
export interface Finding {
  /** Stable rule id, e.g. `vram-budget`. */
  readonly rule: string;
  readonly severity: Severity;
  /** The key of platform.yaml it points at. */
  readonly path: ConfigPath;
  /** One line, with the numbers. */
  readonly message: string;
  /** The ways out. */
  readonly fix: string;
}

/** A check over the built model. */
export interface Rule {
  readonly id: string;
  /** What the rule guards against, for `--format sarif` rule metadata and the README. */
  readonly description: string;
  readonly check?: (platform: Platform) => Finding[];
}
