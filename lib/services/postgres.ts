import { PGVECTOR_IMAGE } from '../images.js';
import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderPostgresInit } from '../configs/postgres-init.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const POSTGRES_PORT = 5432;

export interface PostgresProps extends CatalogServiceProps {
  /** Databases init.sql creates on first start. */
  readonly databases: readonly string[];
}

/** Postgres: persistence for LiteLLM spend logs and the apps; pgvector when vectors are wanted. */
export class Postgres extends Service {
  constructor(stack: Stack, props: PostgresProps) {
    const platform = Platform.of(stack);
    const image = props.image ?? (platform.config.postgres.vectors ? PGVECTOR_IMAGE : undefined);
    super(
      stack,
      'postgres',
      catalogProps('postgres', { ...props, image }, {
        description: `PostgreSQL 16 (databases: ${props.databases.join(', ') || 'none yet'})`,
        env: {
          POSTGRES_USER: platform.secret('PG_USER', { generate: 'user', description: 'Postgres superuser name' }),
          POSTGRES_PASSWORD: platform.secret('PG_PASSWORD', { generate: 'password', description: 'Postgres superuser password' }),
          PGDATA: '/var/lib/postgresql/data/pgdata',
        },
        ports: [{ port: POSTGRES_PORT, name: 'postgres', http: false, authentication: 'password' }],
        volumes: [{ name: 'postgres-data', mountPath: '/var/lib/postgresql/data', sizeGb: 50 }],
        configFiles: [
          { name: 'init.sql', mountPath: '/docker-entrypoint-initdb.d/init.sql', content: () => renderPostgresInit(props.databases) },
        ],
        healthCheck: { exec: ['sh', '-c', 'pg_isready -U "$POSTGRES_USER" -d postgres'], intervalSeconds: 10, timeoutSeconds: 5, retries: 5 },
        resources: { cpus: 2, memoryGb: 4 },
      }),
    );
  }
}
