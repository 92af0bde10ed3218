import { PGVECTOR_IMAGE } from '../images.js';
import type { ConfigPath } from '../config/errors.js';
import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import type { EnvValue } from '../model/values.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { envPrefix } from '../model/values.js';
import { PostgresProvision } from './postgres-provision.js';
import { compareText } from '../output/order.js';

export const POSTGRES_PORT = 5432;

export interface PostgresProps extends CatalogServiceProps {
  /** `postgres.databases`: databases for clients outside the platform, each with its own role. @default none */
  readonly databases?: readonly string[];
  /**
   * `postgres.vectors`: pgvector in every database made for an app or listed in `databases`
   * (true), or only in the listed ones. Turns on the pgvector image. @default false
   */
  readonly vectors?: boolean | readonly string[];
}

/** A client's database: its name, its login role (the owner) and that role's password. */
export interface PostgresDatabase {
  readonly name: string;
  readonly role: string;
  readonly password: Secret;
  /** pgvector is created in it. */
  readonly vectors: boolean;
  /** Who asked for it, for messages. */
  readonly configPath: ConfigPath;
}

export interface DatabaseOptions {
  /** Where the client is configured. */
  readonly configPath: ConfigPath;
  /** A platform service's own database (LiteLLM): `vectors: true` does not apply to it. @default false */
  readonly builtIn?: boolean;
}

/**
 * Postgres: one database and one non-superuser login role per client (LiteLLM spend logs, each
 * app that connects, `postgres.databases`), created on every deploy by the `postgres-provision`
 * one-shot. Only the provisioning job knows the superuser.
 *
 * Both images are Debian (glibc) builds: the official `postgres:<v>-bookworm` and pgvector's, which
 * is built FROM it. Turning `vectors` on or off therefore never moves a data directory to another C
 * library, whose collation order could disagree with existing text indexes.
 */
export class Postgres extends Service {
  private readonly databaseList = new Map<string, PostgresDatabase>();
  private readonly vectors: boolean | readonly string[];
  readonly provisioner: PostgresProvision;

  constructor(stack: Stack, props: PostgresProps) {
    const platform = Platform.of(stack);
    const vectors = props.vectors ?? false;
    const wantsVectors = vectors === true || (Array.isArray(vectors) && vectors.length > 0);
    const image = props.image ?? (wantsVectors ? PGVECTOR_IMAGE : undefined);
    const user = platform.secret('PG_USER', { generate: 'user', readOnce: true, description: 'Postgres superuser name (only the provisioning and backup jobs log in with it)' });
    const password = platform.secret('PG_PASSWORD', { generate: 'password', readOnce: true, description: 'Postgres superuser password' });
    super(
      stack,
      'postgres',
      catalogProps('postgres', { ...props, image }, {
        description: `PostgreSQL 16${wantsVectors ? ' with pgvector' : ''}: a database and login role per client`,
        env: { POSTGRES_USER: user, POSTGRES_PASSWORD: password, PGDATA: '/var/lib/postgresql/data/pgdata' },
        ports: [{ port: POSTGRES_PORT, name: 'postgres', http: false, authentication: 'password' }],
        volumes: [{ name: 'postgres-data', mountPath: '/var/lib/postgresql/data', sizeGb: 50, holds: 'state' }],
        healthCheck: { exec: ['sh', '-c', 'pg_isready -U "$POSTGRES_USER" -d postgres'], intervalSeconds: 10, timeoutSeconds: 5, retries: 5 },
        resources: { cpus: 2, memoryGb: 4 },
      }),
    );
    this.vectors = vectors;
    this.provisioner = new PostgresProvision(stack, {
      postgres: this,
      superuser: { user, password },
      databases: () =>
        this.databases.map((d) => ({ name: d.name, role: d.role, passwordVariable: d.password.name, extensions: d.vectors ? ['vector'] : [] })),
    });
    for (const name of props.databases ?? []) this.database(name, { configPath: ['postgres', 'databases'] });
  }

  /** The database of `name`, declared on first use (with its role and password secret). */
  database(name: string, options: DatabaseOptions): PostgresDatabase {
    const existing = this.databaseList.get(name);
    if (existing) return existing;
    const platform = Platform.of(this);
    const password = platform.secret(`PG_${envPrefix(name)}_PASSWORD`, {
      // Hex: URL-safe, for clients that can only take a connection URL; the platform itself always
      // passes the password on its own, so a hand-made password with any character works too.
      generate: 'hex32',
      description: `Password of Postgres role ${name} (database ${name})`,
    });
    const vectors = this.vectors === true ? !(options.builtIn ?? false) : Array.isArray(this.vectors) && this.vectors.includes(name);
    const database: PostgresDatabase = { name, role: name, password, vectors, configPath: options.configPath };
    this.databaseList.set(name, database);
    this.provisioner.addPassword(password);
    return database;
  }

  get databases(): PostgresDatabase[] {
    return [...this.databaseList.values()].sort((a, b) => compareText(a.name, b.name));
  }

  /**
   * An app gets its own database: `<PREFIX>_DB`, `_USER`, `_PASSWORD`, and libpq's `PGHOST`,
   * `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, which libpq, node-postgres and psycopg read
   * with no connection string, so no password is ever pasted into a URL.
   */
  override clientEnv(client: Service, prefix: string): Readonly<Record<string, EnvValue>> {
    const db = this.database(client.name, { configPath: client.configPath });
    return {
      [`${prefix}_DB`]: db.name,
      [`${prefix}_USER`]: db.role,
      [`${prefix}_PASSWORD`]: db.password,
      PGHOST: (r) => r.address(this, POSTGRES_PORT).host,
      PGPORT: (r) => String(r.address(this, POSTGRES_PORT).port),
      PGDATABASE: db.name,
      PGUSER: db.role,
      PGPASSWORD: db.password,
    };
  }
}

/** Postgres: one database and login role per client. */
export const postgres = defineService({
  name: 'postgres',
  // Debian (glibc), like the pgvector image: `postgres.vectors` never changes the C library under a data directory.
  image: 'postgres:16.10-bookworm',
  stack: 'data',
  zone: 'services',
  on: 'server',
  create: ({ stack, props, config }) => new Postgres(stack, { ...props, databases: config.postgres.databases, vectors: config.postgres.vectors }),
});
