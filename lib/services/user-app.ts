import type { AppConfig } from '../config/schema.js';
import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Node } from '../model/node.js';
import type { Stack } from '../model/stack.js';
import type { Zone } from '../model/zone.js';
import type { EnvValue } from '../model/values.js';
import { envPrefix } from './names.js';

export interface UserAppProps {
  /** The app as configured under `apps.<name>`. */
  readonly config: AppConfig;
  readonly zone: Zone;
  readonly node: Node;
}

/**
 * One of the owner's own container apps (Hono API, workers). Its connections are declared after
 * every service exists; each adds `<NAME>_HOST`, `<NAME>_PORT` and, for HTTP, `<NAME>_URL`.
 */
export class UserApp extends Service {
  constructor(stack: Stack, name: string, props: UserAppProps) {
    const platform = Platform.of(stack);
    const app = props.config;
    const port = app.port as number;
    const env: Record<string, EnvValue> = { ...app.env };
    for (const secret of app.secrets) {
      env[secret] = platform.secrets.find((s) => s.name === secret) ?? platform.secret(secret, { generate: 'password', description: `secret of app ${name}` });
    }
    super(stack, name, {
      image: app.image as string,
      zone: props.zone,
      nodes: [props.node],
      configPath: ['apps', name],
      description: `App ${name}`,
      env,
      ports: [{ port, name: 'http' }],
      healthCheck: { http: { port, path: app.healthPath } },
      resources: { cpus: app.cpus, memoryGb: app.memoryGb },
      egress: app.egress ? [{ host: 'internet', why: `declared by apps.${name}.egress` }] : [],
    });
  }

  /** Connect to a service or app, and hand the app its address in the environment. */
  connectWithEnv(to: Service): void {
    const connection = this.connect(to, { ordering: true });
    const prefix = envPrefix(to.name);
    this.addEnv(`${prefix}_HOST`, (r) => r.address(to, connection.port).host);
    this.addEnv(`${prefix}_PORT`, (r) => String(r.address(to, connection.port).port));
    if (to.ports.find((p) => p.port === connection.port)?.http) this.addEnv(`${prefix}_URL`, (r) => r.url(to, connection.port));
    for (const [name, value] of Object.entries(to.clientEnv(this, prefix))) this.addEnv(name, value);
  }
}
