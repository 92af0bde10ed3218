import type { ConfigPath } from '../config/errors.js';
import type { Service } from './service.js';

/** A site on the edge: `https://<host>.<domain>`. */
export interface Route {
  /** Subdomain. */
  readonly host: string;
  /** Reverse-proxied service and port; absent for a static site. */
  readonly service?: Service;
  readonly port?: number;
  /** Host folder of built files served by the edge (SPA), instead of a service. */
  readonly staticRoot?: string;
  /** Basic auth in front of the site. */
  readonly auth: boolean;
  /** Route hosts whose pages may call this site (CORS). */
  readonly cors: readonly string[];
  /**
   * Path the uptime probes (blackbox, Uptime Kuma) request: one that answers without credentials
   * (the S3 API refuses anonymous `GET /` with 403). @default the site's root
   */
  readonly probePath?: string;
  /** Where the route is configured, for error messages. */
  readonly configPath: ConfigPath;
}
