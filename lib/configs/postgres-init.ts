import { generatedHeader } from '../output/yaml.js';
import { compareText } from '../output/order.js';

/** One client's database as the provisioning script creates it. */
export interface ProvisionedDatabase {
  /** Database name (a platform name: lowercase letters, digits and "-"). */
  readonly name: string;
  /** Its login role, owner of the database. */
  readonly role: string;
  /** Environment variable holding the role's password (the secret's name). */
  readonly passwordVariable: string;
  /** Extensions created in it (`vector` when pgvector is asked for). */
  readonly extensions: readonly string[];
}

/** `"name"`: a quoted SQL identifier. */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `'text'`: a quoted SQL literal. */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Databases initialised by a Postgres built on musl (the Alpine images) record no collation
 * version; glibc builds (Debian, the pgvector image) record glibc's. Such a database opened under
 * glibc may have text indexes in an order glibc does not agree with, so provisioning stops and
 * says how to rebuild them rather than let the apps write into them.
 */
const COLLATION_CHECK = `DO $check$
DECLARE
  stale text;
BEGIN
  SELECT string_agg(datname, ', ' ORDER BY datname) INTO stale
  FROM pg_database
  WHERE datlocprovider = 'c' AND datcollversion IS NULL
    AND datcollate NOT IN ('C', 'POSIX') AND datcollate NOT LIKE 'C.%';
  IF stale IS NOT NULL THEN
    RAISE EXCEPTION 'databases % have no collation version: they were initialised by a musl (Alpine) build of Postgres, and their text indexes may be out of order under this glibc (Debian) image', stale
      USING HINT = 'Either pg_dumpall with the old image and restore into a new volume, or in each of them run REINDEX DATABASE <name>; and then, as the superuser, UPDATE pg_database SET datcollversion = pg_database_collation_actual_version(oid) WHERE datname = ''<name>''; (ALTER DATABASE ... REFRESH COLLATION VERSION refuses a missing version). Then deploy again.';
  END IF;
END
$check$;`;

/**
 * Objects an earlier deploy created in the database as the superuser (tables from the time every
 * client logged in as it) move to the client's role, so the client can still use and migrate
 * them. Rows are not touched; objects owned by other roles and by extensions stay as they are.
 */
function adoptObjects(role: string): string {
  return `DO $adopt$
DECLARE
  owner_role constant text := ${literal(role)};
  obj record;
BEGIN
  FOR obj IN
    SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
    WHERE r.rolsuper AND n.nspname NOT IN ('information_schema', 'public') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', obj.nspname, owner_role);
  END LOOP;
  FOR obj IN
    SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
    WHERE r.rolsuper AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I',
      CASE obj.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      obj.name, owner_role);
  END LOOP;
  FOR obj IN
    SELECT t.oid::regtype AS name FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_roles r ON r.oid = t.typowner
    WHERE r.rolsuper AND t.typtype IN ('e', 'd', 'r', 'm')
      AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
  LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO %I', obj.name, owner_role);
  END LOOP;
  FOR obj IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
    WHERE r.rolsuper AND p.prokind IN ('f', 'p')
      AND n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', obj.name, owner_role);
  END LOOP;
END
$adopt$;`;
}

/**
 * One client's block. Its roles and database statements are cluster-wide (pg_roles and pg_database
 * are shared catalogs), so they run from whichever database the session is in; only the part after
 * `\connect` (the public schema, extensions, adopting objects) needs that database. The next
 * client's block starts from there: one connection per client database, none back to `postgres`.
 */
function provisionDatabase(db: ProvisionedDatabase): string {
  const { name, role, passwordVariable } = db;
  const lines = [
    `-- ${name}: database ${ident(name)}, owned by login role ${ident(role)} (password from $${passwordVariable})`,
    // The password reaches SQL only as a psql variable quoted by :'password': any character is safe.
    `\\getenv password ${passwordVariable}`,
    '\\if :{?password}',
    '\\else',
    "\\set password ''",
    '\\endif',
    "SELECT :'password' = '' AS password_missing \\gset",
    '\\if :password_missing',
    `DO $$ BEGIN RAISE EXCEPTION '${passwordVariable} is empty or unset: it is the password of role ${role}'; END $$;`,
    '\\endif',
    `SELECT 'CREATE ROLE ${ident(role)} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role)}) \\gexec`,
    // Re-applied on every run: the secret is the source of truth, and a role never gains privileges.
    `ALTER ROLE ${ident(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'password';`,
    '\\unset password',
    `SELECT 'CREATE DATABASE ${ident(name)} OWNER ${ident(role)}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(name)}) \\gexec`,
    `ALTER DATABASE ${ident(name)} OWNER TO ${ident(role)};`,
    // Only its owner (and the superuser) may connect: PUBLIC's default CONNECT and TEMP go.
    `REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC;`,
    `\\connect ${ident(name)}`,
    `ALTER SCHEMA public OWNER TO ${ident(role)};`,
    `REVOKE ALL ON SCHEMA public FROM PUBLIC;`,
    ...db.extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${ident(e)};`),
    adoptObjects(role),
  ];
  return lines.join('\n');
}

/**
 * provision.sql, run by psql as the superuser on every deploy (a one-shot container in Compose,
 * a hook Job on k3s): per client a login role with its own password and a database it owns, that
 * no other client may connect to; pgvector where asked. Creating only what is missing and
 * re-asserting ownership and password makes it safe to run any number of times over live data.
 */
export function renderPostgresProvisioning(databases: readonly ProvisionedDatabase[]): string {
  const sorted = [...databases].sort((a, b) => compareText(a.name, b.name));
  const parts = [
    generatedHeader('Postgres provisioning', '--').trimEnd(),
    '\\set ON_ERROR_STOP on',
    '\\set QUIET on',
    COLLATION_CHECK,
    // Clients have no business in the maintenance databases: only the superuser connects there.
    'REVOKE ALL ON DATABASE postgres FROM PUBLIC;\nREVOKE ALL ON DATABASE template1 FROM PUBLIC;',
    ...sorted.map(provisionDatabase),
    sorted.length === 0 ? '-- No client uses Postgres yet.' : `\\echo provisioned ${sorted.map((d) => d.name).join(', ')}`,
  ];
  return parts.join('\n\n') + '\n';
}
