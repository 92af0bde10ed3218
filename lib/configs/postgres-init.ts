import { generatedHeader } from '../output/yaml.js';

/** init.sql: creates each database once (Postgres runs it only on an empty data volume). */
export function renderPostgresInit(databases: readonly string[]): string {
  const statements = [...databases]
    .sort()
    .map((db) => `SELECT 'CREATE DATABASE "${db}"' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')\\gexec`);
  return generatedHeader('Postgres init', '--') + statements.join('\n') + '\n';
}
