import type { BackupPlan, NodeBackup } from '../services/backup.js';
import { BACKUP_PATHS } from '../services/backup.js';

/*
 * The scripts of a node's backup job, the same on both targets: `backup.sh` (dumps, snapshots,
 * retention, metrics), `restore.sh` (one source or everything, from a chosen time), `verify.sh`
 * (restic check, then each database's latest dump restored into a scratch database and checked)
 * and, on Compose, `scheduler.sh` (runs them at their cron times). They read every secret from
 * the environment, take no value on a command line, and every path can be overridden through
 * BACKUP_* variables (the tests run them against a local Postgres and repository).
 */

const HEADER = (what: string, node: string) =>
  `#!/bin/bash
# Rendered by platform: ${what} of node ${node}. Do not edit: change platform.yaml and synth.
set -euo pipefail
`;

/** What every script shares: where things are, the repositories, logging, restic on PATH. */
function common(plan: BackupPlan, backup: NodeBackup): string {
  const repositories = plan.destinations.map((d) => `${d.name}=${d.repository(backup.name)}`).join(' ');
  const sources = backup.volumes.map((v) => `  "${v.id} ${v.relativePath} ${v.readRule}"`).join('\n');
  return `node=${backup.node.name}
job=${backup.name}
data=\${BACKUP_DATA_ROOT:-${BACKUP_PATHS.data}}
work=\${BACKUP_WORK:-${BACKUP_PATHS.work}}
metrics=\${BACKUP_METRICS_DIR:-${BACKUP_PATHS.metrics}}
# name=repository, one per destination; each gets every snapshot.
repositories=\${BACKUP_REPOSITORIES:-"${repositories}"}
# Postgres databases dumped here (pg_dump of the pinned Postgres image), in order.
databases=(${backup.databases.join(' ')})
# State volumes: "<service>/<volume> <folder under the data root> <read rule>".
sources=(
${sources}
)
export PATH="${BACKUP_PATHS.bin}:$PATH"
export RESTIC_CACHE_DIR=\${RESTIC_CACHE_DIR:-$work/restic-cache}
: "\${RESTIC_PASSWORD:?RESTIC_PASSWORD is not set (the secret BACKUP_RESTIC_PASSWORD)}"
export RESTIC_PASSWORD
log() { printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# Write one metrics file atomically (node-exporter's textfile collector reads *.prom).
write_metrics() {
  local file=$1 content=$2
  mkdir -p "$metrics"
  printf '%s\\n' "$content" > "$metrics/.$file.tmp"
  mv "$metrics/.$file.tmp" "$metrics/$file"
}
# The value a metric had in the last file written (to keep "last success" across failures).
previous_metric() {
  local file=$1 series=$2
  if [ -f "$metrics/$file" ]; then
    awk -v s="$series" '$1 == s { print $2 }' "$metrics/$file"
  fi
}
`;
}

/** backup.sh: dumps first, then one snapshot per source and repository, retention, metrics. */
export function renderBackupScript(plan: BackupPlan, backup: NodeBackup): string {
  const { daily, weekly, monthly } = plan.retention;
  return `${HEADER('scheduled backup', backup.node.name)}${common(plan, backup)}
dumps="$work/dumps"
failures=0
started=$(date +%s)

# 1. Consistent database dumps (never the live data directory): pg_dump takes one snapshot per database.
rm -rf "$dumps" && mkdir -p "$dumps"
for db in "\${databases[@]}"; do
  log "dump of database $db"
  if ! pg_dump --format=custom --no-password --dbname="$db" --file="$dumps/$db.dump"; then
    log "FAILED: dump of $db"; failures=$((failures + 1)); rm -f "$dumps/$db.dump"
  fi
done

# Size and mtime of every file of a folder: unchanged before and after a read means the copy is consistent.
fingerprint() { find "$1" -type f -printf '%P %s %T@\\n' | LC_ALL=C sort | sha256sum; }

# One snapshot; prints its id.
snapshot() {
  local repo=$1 tag=$2; shift 2
  restic -r "$repo" backup --json --host "$node" --tag platform --tag "source=$tag" "$@" \\
    | sed -n 's/.*"message_type":"summary".*"snapshot_id":"\\([0-9a-f]*\\)".*/\\1/p'
}

for entry in $repositories; do
  name=\${entry%%=*}; repo=\${entry#*=}
  ok=1
  if ! restic -r "$repo" cat config > /dev/null 2>&1; then
    log "initialising repository $name"
    restic -r "$repo" init > /dev/null || { log "FAILED: cannot open or create repository $name"; failures=$((failures + 1)); ok=0; }
  fi
  if [ "$ok" = 1 ]; then
    for db in "\${databases[@]}"; do
      [ -f "$dumps/$db.dump" ] || { ok=0; continue; }
      id=$(cd "$dumps" && snapshot "$repo" "postgres/$db" "$dumps/$db.dump") || id=
      [ -n "$id" ] || { log "FAILED: snapshot of database $db to $name"; ok=0; }
    done
    for source in "\${sources[@]}"; do
      set -- $source
      tag=$1 path="$data/$2" rule=$3
      if [ ! -d "$path" ]; then log "FAILED: $tag: $path is missing"; ok=0; continue; fi
      done_ok=0
      for attempt in 1 2 3; do
        before=$(fingerprint "$path")
        id=$(snapshot "$repo" "$tag" "$path") || id=
        [ -n "$id" ] || break
        if [ "$rule" = crash-safe ] || [ "$(fingerprint "$path")" = "$before" ]; then done_ok=1; break; fi
        log "$tag changed while it was read (attempt $attempt): snapshot $id dropped"
        restic -r "$repo" forget "$id" > /dev/null
        sleep $((attempt * 20))
      done
      [ "$done_ok" = 1 ] || { log "FAILED: snapshot of $tag to $name"; ok=0; }
    done
    # 2. Retention: per source (restic groups by host and paths), then unreferenced data is removed.
    restic -r "$repo" forget --host "$node" --tag platform --keep-daily ${daily} --keep-weekly ${weekly} --keep-monthly ${monthly} --prune > /dev/null \\
      || { log "FAILED: retention on $name"; ok=0; }
  fi
  [ "$ok" = 1 ] || failures=$((failures + 1))
  now=$(date +%s)
  last=$(previous_metric "backup-$job-$name.prom" "platform_backup_last_success_timestamp_seconds{backup=\\"$job\\",destination=\\"$name\\"}")
  [ "$ok" = 1 ] && last=$now
  write_metrics "backup-$job-$name.prom" "# HELP platform_backup_last_success_timestamp_seconds When every dump and volume of the node last reached the destination.
# TYPE platform_backup_last_success_timestamp_seconds gauge
platform_backup_last_success_timestamp_seconds{backup=\\"$job\\",destination=\\"$name\\"} \${last:-0}
# HELP platform_backup_last_run_success Whether the last backup run to the destination succeeded (1) or not (0).
# TYPE platform_backup_last_run_success gauge
platform_backup_last_run_success{backup=\\"$job\\",destination=\\"$name\\"} $ok
# HELP platform_backup_last_run_duration_seconds How long the last backup run took.
# TYPE platform_backup_last_run_duration_seconds gauge
platform_backup_last_run_duration_seconds{backup=\\"$job\\",destination=\\"$name\\"} $((now - started))"
done
rm -rf "$dumps"
if [ "$failures" -gt 0 ]; then log "backup finished with $failures failure(s)"; exit 1; fi
log "backup finished"
`;
}

/** restore.sh: one source (`grafana/grafana-data`, `postgres/api`), a service, or `all`, from a chosen time. */
export function renderRestoreScript(plan: BackupPlan, backup: NodeBackup): string {
  return `${HEADER('restore', backup.node.name)}
usage() {
  cat >&2 <<'USAGE'
usage: restore.sh [--from DESTINATION] [--at TIME] [--list] WHAT...
  WHAT   all | <service> | <service>/<volume> | postgres/<database>
  --at   the newest snapshot at or before TIME (anything date -d reads, e.g. "2026-11-29 04:00"); default: the newest
  --from the destination to read (default: the first)
  --list the snapshots there, then exit
Stop the services you restore first: the volume's files are replaced; a database is restored into
its database (created when missing) with pg_restore --clean.
USAGE
  exit 2
}
${common(plan, backup)}
from= at= list=0 what=()
while [ $# -gt 0 ]; do
  case $1 in
    --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
    --at) [ $# -ge 2 ] || usage; at=$2; shift 2 ;;
    --list) list=1; shift ;;
    -h|--help) usage ;;
    -*) log "unknown option $1"; usage ;;
    *) what+=("$1"); shift ;;
  esac
done
repo=
for entry in $repositories; do
  if [ -z "$from" ] || [ "\${entry%%=*}" = "$from" ]; then destination=\${entry%%=*} repo=\${entry#*=}; break; fi
done
[ -n "$repo" ] || { log "no destination named $from"; exit 2; }
if [ "$list" = 1 ]; then restic -r "$repo" snapshots --host "$node" --tag platform; exit 0; fi
[ \${#what[@]} -gt 0 ] || usage
cutoff=$(date -d "\${at:-now}" +%s) || { log "cannot read the time $at"; exit 2; }

# Every source of this node: databases first, then volumes.
all=()
for db in "\${databases[@]}"; do all+=("postgres/$db"); done
for source in "\${sources[@]}"; do set -- $source; all+=("$1"); done
chosen=()
for want in "\${what[@]}"; do
  found=0
  for id in "\${all[@]}"; do
    if [ "$want" = all ] || [ "$want" = "$id" ] || [ "$want" = "\${id%%/*}" ]; then chosen+=("$id"); found=1; fi
  done
  [ "$found" = 1 ] || { log "nothing on node $node is called $want; here: \${all[*]}"; exit 2; }
done

scratch=$(mktemp -d "$work/restore.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# Every snapshot of the node, read from the repository once (not once per source):
# "<unix time> <snapshot id> <source>" per line. restic prints a JSON array, each snapshot's
# fields in the order time ... tags ... id.
restic -r "$repo" snapshots --json --host "$node" --tag platform > "$scratch/snapshots.json" \\
  || { log "cannot list the snapshots in destination $destination"; exit 1; }
sed 's/},{"time"/}\\n{"time"/g' "$scratch/snapshots.json" \\
  | sed -n 's/.*"time":"\\([^"]*\\)".*"source=\\([^"]*\\)".*"id":"\\([0-9a-f]*\\)".*/\\1 \\3 \\2/p' > "$scratch/listed"
# One date for every time (a time it cannot read stops the restore here, under set -e).
cut -d' ' -f1 "$scratch/listed" | date -f - +%s > "$scratch/times"
cut -d' ' -f2- "$scratch/listed" | paste -d' ' "$scratch/times" - > "$scratch/snapshots"

# The newest snapshot of a source at or before the cutoff.
pick() {
  awk -v source="$1" -v cutoff="$cutoff" '$3 == source && $1 + 0 <= cutoff + 0' "$scratch/snapshots" | sort -n | tail -1 | cut -d' ' -f2
}

for id in "\${chosen[@]}"; do
  snap=$(pick "$id") || snap=
  [ -n "$snap" ] || { log "no snapshot of $id at or before $(date -d "@$cutoff")"; exit 1; }
  rm -rf "$scratch/tree" && mkdir -p "$scratch/tree"
  restic -r "$repo" restore "$snap" --target "$scratch/tree" > /dev/null
  case $id in
    postgres/*)
      db=\${id#postgres/}
      file=$(find "$scratch/tree" -type f -name "$db.dump" | head -1)
      log "restoring database $db from snapshot $snap"
      if [ "$(psql --no-psqlrc -At --dbname=postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
        createdb --owner="$db" "$db"
      fi
      pg_restore --clean --if-exists --no-owner --role="$db" --exit-on-error --single-transaction --dbname="$db" "$file"
      ;;
    *)
      for source in "\${sources[@]}"; do set -- $source; [ "$1" = "$id" ] && rel=$2; done
      target="$data/$rel"
      restored="$scratch/tree$target"
      [ -d "$restored" ] || restored=$(find "$scratch/tree" -type d -path "*/$rel" | head -1)
      log "restoring $id into $target from snapshot $snap"
      mkdir -p "$target"
      find "$target" -mindepth 1 -delete
      cp -a "$restored/." "$target/"
      ;;
  esac
done
log "restored: \${chosen[*]}"
`;
}

/** verify.sh: restic check, then every database's latest dump restored into a scratch database and checked. */
export function renderVerifyScript(plan: BackupPlan, backup: NodeBackup): string {
  return `${HEADER('restore test', backup.node.name)}${common(plan, backup)}
# Share of the packs whose data is read back and checked each run (all metadata is checked every time).
read_data=\${BACKUP_VERIFY_READ_DATA:-10%}
scratch=$(mktemp -d "$work/verify.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failures=0
for entry in $repositories; do
  name=\${entry%%=*}; repo=\${entry#*=}
  ok=1
  log "checking repository $name"
  restic -r "$repo" check --read-data-subset="$read_data" >&2 || { log "FAILED: restic check of $name"; ok=0; }
  for db in "\${databases[@]}"; do
    scratch_db="platform_verify_$(printf %s "$db" | tr - _)"
    rm -rf "$scratch/tree" && mkdir -p "$scratch/tree"
    if ! restic -r "$repo" restore latest --host "$node" --tag "source=postgres/$db" --target "$scratch/tree" > /dev/null; then
      log "FAILED: latest dump of $db cannot be read from $name"; ok=0; continue
    fi
    file=$(find "$scratch/tree" -type f -name "$db.dump" | head -1)
    dropdb --if-exists "$scratch_db"
    createdb "$scratch_db"
    expected=$(pg_restore --list "$file" | grep -c ' TABLE DATA ' || true)
    if pg_restore --no-owner --no-acl --exit-on-error --single-transaction --dbname="$scratch_db" "$file"; then
      tables=$(psql --no-psqlrc -At --dbname="$scratch_db" -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
      if [ "$tables" -lt "$expected" ]; then log "FAILED: $db restored $tables of $expected tables"; ok=0; else log "$db: $tables table(s) restored from $name"; fi
    else
      log "FAILED: the latest dump of $db does not restore"; ok=0
    fi
    dropdb --if-exists "$scratch_db"
  done
  [ "$ok" = 1 ] || failures=$((failures + 1))
  now=$(date +%s)
  last=$(previous_metric "verify-$job-$name.prom" "platform_backup_verify_last_success_timestamp_seconds{backup=\\"$job\\",destination=\\"$name\\"}")
  [ "$ok" = 1 ] && last=$now
  write_metrics "verify-$job-$name.prom" "# HELP platform_backup_verify_last_success_timestamp_seconds When the repository last passed restic check and every database's latest dump restored.
# TYPE platform_backup_verify_last_success_timestamp_seconds gauge
platform_backup_verify_last_success_timestamp_seconds{backup=\\"$job\\",destination=\\"$name\\"} \${last:-0}
# HELP platform_backup_verify_last_run_success Whether the last restore test of the destination passed (1) or not (0).
# TYPE platform_backup_verify_last_run_success gauge
platform_backup_verify_last_run_success{backup=\\"$job\\",destination=\\"$name\\"} $ok"
done
if [ "$failures" -gt 0 ]; then log "verify finished with $failures failure(s)"; exit 1; fi
log "verify finished"
`;
}

/**
 * scheduler.sh (Compose): wakes at the start of every minute and runs backup.sh and verify.sh
 * when the minute matches their cron schedule, in the node's local time (/etc/localtime is
 * mounted from the host). A run still going when its next time comes is not started twice.
 */
export function renderSchedulerScript(plan: BackupPlan, backup: NodeBackup): string {
  return `${HEADER('backup scheduler', backup.node.name)}
backup_schedule='${plan.schedule}'
verify_schedule='${plan.verifySchedule}'
scripts=\${BACKUP_SCRIPTS:-${BACKUP_PATHS.scripts}}

# Whether one cron field matches a value: "*", "n", "a-b", lists and "/step".
field_matches() {
  local field=$1 value=$2 low=$3 high=$4 item range step from to
  IFS=, read -ra items <<< "$field"
  for item in "\${items[@]}"; do
    step=1; range=$item
    case $item in */*) step=\${item#*/}; range=\${item%/*} ;; esac
    if [ "$range" = '*' ]; then from=$low; to=$high
    elif [[ $range == *-* ]]; then from=\${range%-*}; to=\${range#*-}
    else from=$range; to=$range; [ "$step" != 1 ] && to=$high
    fi
    if [ "$value" -ge "$from" ] && [ "$value" -le "$to" ] && [ $(( (value - from) % step )) -eq 0 ]; then return 0; fi
  done
  return 1
}

# Whether a five-field schedule matches the time "minute hour day month weekday" (Sunday is 0 or 7).
cron_matches() {
  local minute hour day month weekday m h d mo w
  read -r minute hour day month weekday <<< "$1"
  read -r m h d mo w <<< "$2"
  field_matches "$minute" "$m" 0 59 && field_matches "$hour" "$h" 0 23 && field_matches "$month" "$mo" 1 12 || return 1
  local day_ok=1 weekday_ok=1
  field_matches "$day" "$d" 1 31 || day_ok=0
  { field_matches "$weekday" "$w" 0 7 || { [ "$w" = 0 ] && field_matches "$weekday" 7 0 7; }; } || weekday_ok=0
  # cron: when both day fields are restricted, either may match.
  if [ "$day" != '*' ] && [ "$weekday" != '*' ]; then [ "$day_ok" = 1 ] || [ "$weekday_ok" = 1 ]; else [ "$day_ok" = 1 ] && [ "$weekday_ok" = 1 ]; fi
}

run() {
  local name=$1 lock="/tmp/$1.running"
  if [ -e "$lock" ]; then echo "$name: the previous run is still going; skipped" >&2; return; fi
  touch "$lock"
  ( bash "$scripts/$name.sh" || echo "$name failed (exit $?)" >&2; rm -f "$lock" ) &
}

if [ "\${1:-}" = --matches ]; then cron_matches "$2" "$3"; exit; fi
[ -f "$scripts/backup.sh" ] || { echo "no $scripts/backup.sh: the scripts are not mounted" >&2; exit 1; }
echo "backup scheduler on ${backup.node.name}: backup at '$backup_schedule', verify at '$verify_schedule' (local time)" >&2
rm -f /tmp/backup.running /tmp/verify.running
while true; do
  sleep $((60 - 10#$(date +%S)))
  now=$(date '+%M %H %d %m %w' | awk '{ print $1 + 0, $2 + 0, $3 + 0, $4 + 0, $5 + 0 }')
  cron_matches "$backup_schedule" "$now" && run backup
  cron_matches "$verify_schedule" "$now" && run verify
done
`;
}
