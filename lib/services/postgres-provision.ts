import { Service } from '../model/service.js';
import type { Secret } from '../model/secret.js';
import type { Stack } from '../model/stack.js';
import { renderPostgresProvisioning, type ProvisionedDatabase } from '../configs/postgres-init.js';

/** Where the provisioning script is mounted in the one-shot container. */
export const PROVISION_SQL_PATH = '/provision/provision.sql';
/** uid:gid of the `postgres` user in the Debian-based Postgres images (the official image and pgvector's). */
export const POSTGRES_IMAGE_USER = '999:999';

export interface PostgresProvisionProps {
  /** The server it provisions; it runs beside it, from the same image (for its psql). */
  readonly postgres: Service;
  /** The superuser's name and password: the only login allowed to create roles and databases. */
  readonly superuser: { readonly user: Secret; readonly password: Secret };
  /** The databases, read when the script is rendered (clients register after construction). */
  readonly databases: () => readonly ProvisionedDatabase[];
}

/**
 * One-shot: runs provision.sql with psql as the superuser after Postgres is healthy, on every
 * deploy (`docker compose up` starts an exited one-shot again; on k3s it is a hook Job that runs
 * on every sync). It creates what is missing and leaves existing data as it is.
 */
export class PostgresProvision extends Service {
  private readonly passwords = new Set<string>();

  constructor(stack: Stack, props: PostgresProvisionProps) {
    const postgres = props.postgres;
    super(stack, `${postgres.name}-provision`, {
      image: postgres.image,
      zone: postgres.zone,
      nodes: postgres.nodes,
      configPath: postgres.configPath,
      description: 'Creates each client database and its login role (idempotent, every deploy)',
      command: ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--file', PROVISION_SQL_PATH],
      env: {
        PGHOST: (r) => r.address(postgres, postgres.primaryPort?.port ?? 5432).host,
        PGPORT: (r) => String(r.address(postgres, postgres.primaryPort?.port ?? 5432).port),
        PGDATABASE: 'postgres',
        PGUSER: props.superuser.user,
        PGPASSWORD: props.superuser.password,
        PGCONNECT_TIMEOUT: '10',
      },
      configFiles: [{ name: 'provision.sql', mountPath: PROVISION_SQL_PATH, content: () => renderPostgresProvisioning(props.databases()) }],
      oneShot: true,
      resources: { cpus: 0.25, memoryGb: 0.25 },
      // psql needs no privilege of its own: run as the image's postgres user with no capabilities.
      security: { user: POSTGRES_IMAGE_USER, capDrop: ['ALL'] },
    });
    this.connect(postgres, { ordering: true });
  }

  /** Hand the job a client's password (as the variable the script reads with \getenv). */
  addPassword(secret: Secret): void {
    if (this.passwords.has(secret.name)) return;
    this.passwords.add(secret.name);
    this.addEnv(secret.name, secret);
  }
}
