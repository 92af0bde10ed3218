import type { Platform } from '../model/platform.js';
import type { Route } from '../model/route.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader } from '../output/yaml.js';
import { compareText } from '../output/order.js';

/** Plain-HTTP port of Caddy's Prometheus metrics, reachable on the zone networks only. */
export const CADDY_METRICS_PORT = 9180;

/** Caddy's port for Loki pushes from other nodes: HTTPS, basic auth, the push path only. */
export const LOKI_GATEWAY_PORT = 3100;
/** The basic-auth user Alloy pushes as. */
export const LOKI_GATEWAY_USER = 'alloy';
/** Secrets of the Loki gateway: the password Alloy sends and its bcrypt hash Caddy checks. */
export const LOKI_PUSH_PASSWORD = 'LOKI_PUSH_PASSWORD';
export const LOKI_PUSH_PASSWORD_HASH = 'LOKI_PUSH_PASSWORD_HASH';

/** `comfyui` -> `COMFYUI_BASIC_AUTH_HASH`: the variable holding a protected site's bcrypt hash. */
export function basicAuthSecretName(host: string): string {
  return `${host.toUpperCase().replace(/-/g, '_')}_BASIC_AUTH_HASH`;
}

/**
 * The headers every response carries, error responses included. Removing `Server` makes Caddy
 * defer the whole `header` block to the moment the response is written, and an error (basic
 * auth's 401, reverse_proxy's 502, file_server's 404) bypasses that writer: so the site also
 * handles its errors, with the same headers and a plain "<code> <text>" body.
 */
const SECURITY_HEADERS = [
  '(headers) {',
  '\theader {',
  '\t\tStrict-Transport-Security "max-age=31536000; includeSubDomains"',
  '\t\tX-Content-Type-Options "nosniff"',
  '\t\tX-Frame-Options "DENY"',
  '\t\tReferrer-Policy "strict-origin-when-cross-origin"',
  '\t\t-Server',
  '\t}',
  '}',
  '',
  '(security_headers) {',
  '\timport headers',
  '\thandle_errors {',
  '\t\timport headers',
  '\t\trespond "{err.status_code} {err.status_text}"',
  '\t}',
  '}',
];

function site(platform: Platform, resolve: Resolver, route: Route, user: string): string[] {
  const lines = [`${platform.fqdn(route.host)} {`, '\timport security_headers'];
  if (route.auth) {
    // `basicauth` rather than `basic_auth`: the newer spelling is unknown to Caddy before 2.8.
    lines.push('\tbasicauth {', `\t\t${user} {$${basicAuthSecretName(route.host)}}`, '\t}');
  }
  route.cors.forEach((origin, index) => {
    const matcher = `@cors_${index}`;
    lines.push(
      `\t${matcher} header Origin https://${platform.fqdn(origin)}`,
      `\theader ${matcher} Access-Control-Allow-Origin "https://${platform.fqdn(origin)}"`,
      `\theader ${matcher} Access-Control-Allow-Methods "GET, POST, PUT, DELETE, OPTIONS"`,
      `\theader ${matcher} Access-Control-Allow-Headers "Content-Type, Authorization"`,
      `\theader ${matcher} Vary "Origin"`,
    );
  });
  if (route.cors.length > 0) lines.push('\t@preflight method OPTIONS', '\trespond @preflight 204');
  if (route.staticRoot !== undefined) {
    lines.push('\tencode zstd gzip', `\troot * /srv/${route.host}`, '\ttry_files {path} /index.html', '\tfile_server');
  } else if (route.service && route.port !== undefined) {
    const address = resolve.address(route.service, route.port);
    lines.push(`\treverse_proxy ${address.host}:${address.port}`);
  }
  lines.push('}');
  return lines;
}

/**
 * Loki's push API for Alloy on the other nodes (Compose: they can reach Loki only through a
 * published port). Loki has no authentication of its own, so it is never published: Caddy
 * publishes this site instead, on the node's address, with a certificate of its internal CA,
 * basic auth, and nothing but the push path (queries stay inside the monitoring zone).
 */
function lokiGatewaySite(resolve: Resolver, loki: Service): string[] {
  const upstream = resolve.address(loki, 3100);
  return [
    `https://${resolve.node.bindAddress}:${LOKI_GATEWAY_PORT} {`,
    '\ttls internal',
    '\timport security_headers',
    '\tbasicauth {',
    `\t\t${LOKI_GATEWAY_USER} {$${LOKI_PUSH_PASSWORD_HASH}}`,
    '\t}',
    '\thandle /loki/api/v1/push {',
    `\t\treverse_proxy ${upstream.host}:${upstream.port}`,
    '\t}',
    '\thandle {',
    '\t\trespond 404',
    '\t}',
    '}',
  ];
}

/** The Caddyfile: one site per route, HSTS and security headers everywhere, ACME or the internal CA. */
export function renderCaddyfile(platform: Platform, resolve: Resolver, lokiGateway?: Service): string {
  const global = ['{', `\temail ${platform.config.acmeEmail}`];
  if (platform.tls === 'internal') global.push('\tlocal_certs');
  // Request, error and latency metrics of every site, labelled with its host (Caddy 2.9+: the
  // global `metrics` option; without it Caddy 2.10 records no HTTP metrics at all).
  global.push('\tmetrics {', '\t\tper_host', '\t}');
  global.push('}');
  const sites = [...platform.routes]
    .sort((a, b) => compareText(a.host, b.host))
    .map((route) => site(platform, resolve, route, platform.config.basicAuthUser).join('\n'));
  const metrics = [`http://:${CADDY_METRICS_PORT} {`, '\tmetrics', '}'].join('\n');
  const gateway = lokiGateway && resolve.target === 'compose' ? [lokiGatewaySite(resolve, lokiGateway).join('\n')] : [];
  return [generatedHeader('Caddyfile') + global.join('\n'), SECURITY_HEADERS.join('\n'), ...sites, ...gateway, metrics].join('\n\n') + '\n';
}
