import * as z from 'zod';

/*
 * `backup:` of platform.yaml. A schedule is cron syntax (five fields, numbers only), checked here
 * field by field so a typo is refused at load time with the field that is wrong, not at 03:00.
 */

/** The fields of a cron schedule: name, lowest and highest value (day of week: 0 and 7 are Sunday). */
const CRON_FIELDS = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
] as const;

const CRON_RULE =
  'must be a cron schedule: five fields (minute hour day-of-month month day-of-week), each "*", a number, a range "a-b", a list "a,b" or a step "*/n" / "a-b/n", numbers only';

/** What is wrong with a cron schedule, or undefined when it parses. */
export function cronProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} field(s)`;
  for (const [index, text] of fields.entries()) {
    const [name, low, high] = CRON_FIELDS[index] as (typeof CRON_FIELDS)[number];
    for (const item of (text as string).split(',')) {
      const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!match) return `${name} "${item}" is not a number, range, list or step`;
      const [, , from, to, step] = match;
      for (const value of [from, to]) {
        if (value !== undefined && (Number(value) < low || Number(value) > high)) return `${name} ${value} is not in ${low}-${high}`;
      }
      if (from !== undefined && to !== undefined && Number(from) > Number(to)) return `${name} range ${from}-${to} runs backwards`;
      if (step !== undefined && Number(step) < 1) return `${name} step /${step} must be 1 or more`;
    }
  }
  return undefined;
}

const cronSchedule = (fallback: string) =>
  z
    .string()
    .max(100, { error: 'must be at most 100 characters' })
    .superRefine((value, ctx) => {
      const problem = cronProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `${CRON_RULE}; ${problem}` });
    })
    .default(fallback);

const keep = (unit: string, fallback: number) =>
  z
    .number({ error: `must be a whole number of ${unit} snapshots to keep, 1 or more` })
    .int({ error: `must be a whole number of ${unit} snapshots to keep, 1 or more` })
    .min(1, { error: `must be a whole number of ${unit} snapshots to keep, 1 or more (0 would delete every ${unit} snapshot at the next prune)` })
    .max(1000, { error: 'must be at most 1000' })
    .default(fallback)
    .describe(`How many ${unit} snapshots to keep (restic forget --keep-${unit}).`);

/** Defaults: daily at 03:00, verify on Sundays at 05:00, 7 daily, 4 weekly, 6 monthly. */
export const BACKUP_DEFAULTS = {
  schedule: '0 3 * * *',
  verifySchedule: '0 5 * * 0',
  retention: { daily: 7, weekly: 4, monthly: 6 },
  destinations: { local: { path: '/cold-storage/backups' } },
} as const;

const S3_ENDPOINT = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/**
 * The `backup:` schema, given the host-path rule of the main schema (a folder on the node: an
 * absolute path without `.`/`..` segments, safe in scripts and YAML).
 */
export function backupSchema(hostPath: z.ZodType<string>, destinationName: z.ZodType<string>) {
  const destination = z.union(
    [
      z.strictObject({ path: hostPath.describe('A folder on every node (a local disk or a mounted NAS share): the repository is <path>/restic.') }),
      z.strictObject({
        s3: z.strictObject({
          endpoint: z.string().regex(S3_ENDPOINT, { error: 'must be an http(s) URL of a host and optional port, no path (e.g. https://s3.eu-central-003.backblazeb2.com)' }).describe('S3 API endpoint.'),
          bucket: z.string().regex(BUCKET, { error: 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"' }).describe('Bucket.'),
          prefix: z.string().regex(PREFIX, { error: 'must be a folder: segments of letters, digits, ".", "_" and "-" separated by "/"' }).default('restic').describe('Folder inside the bucket.'),
        }),
      }),
    ],
    { error: 'must be { path: /absolute/folder } or { s3: { endpoint, bucket, prefix } }' },
  );
  return z
    .strictObject({
      enabled: z.boolean().default(true).describe('Back up every node (on unless set to false).'),
      schedule: cronSchedule(BACKUP_DEFAULTS.schedule).describe('When the backup runs, cron syntax in the node\'s local time (default daily at 03:00).'),
      verifySchedule: cronSchedule(BACKUP_DEFAULTS.verifySchedule).describe('When the restore test runs (default Sundays at 05:00).'),
      retention: z
        .strictObject({ daily: keep('daily', 7), weekly: keep('weekly', 4), monthly: keep('monthly', 6) })
        .default({ ...BACKUP_DEFAULTS.retention })
        .describe('Snapshots kept after each backup (restic forget --prune).'),
      destinations: z
        .record(destinationName, destination)
        .refine((d) => Object.keys(d).length > 0, { error: 'must name at least one destination (or set backup.enabled: false)' })
        .default({ ...BACKUP_DEFAULTS.destinations })
        .describe('Where the encrypted repositories are, by name: a folder (local disk, NAS mount) and/or an S3 bucket. Each gets every snapshot.'),
    })
    .default({
      enabled: true,
      schedule: BACKUP_DEFAULTS.schedule,
      verifySchedule: BACKUP_DEFAULTS.verifySchedule,
      retention: { ...BACKUP_DEFAULTS.retention },
      destinations: { ...BACKUP_DEFAULTS.destinations },
    })
    .describe('Scheduled, encrypted, verified backups of every state volume and Postgres database (restic).');
}
