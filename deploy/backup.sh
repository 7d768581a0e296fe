#!/bin/sh
# deploy/backup.sh: nightly backup of Fairshare, then the retention (docs/deploy.md,
# "Backups and retention"). Run by fairshare-backup.timer at 03:45, after the purge (03:15).
#
# Writes into FAIRSHARE_BACKUP_DIR (default /var/backups/fairshare):
#   db-YYYYmmdd-HHMMSS.dump          pg_dump --format=custom of DATABASE_URL
#   private-YYYYmmdd-HHMMSS.tar.gz   the private uploads (registration photos)
# then deletes every such file older than FAIRSHARE_BACKUP_RETENTION_DAYS (default 7).
# The keys of the data folder are not in it (back them up once, separately).
#
# Environment: the production env file is read when ENV_FILE (default /etc/fairshare/env)
# exists and the variables are not already set.
set -eu

ENV_FILE=${ENV_FILE:-/etc/fairshare/env}
if [ -z "${DATABASE_URL:-}" ] && [ -r "$ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
fi
: "${DATABASE_URL:?DATABASE_URL must be set (postgres://...)}"
: "${FAIRSHARE_DATA_DIR:?FAIRSHARE_DATA_DIR must be set}"
dir=${FAIRSHARE_BACKUP_DIR:-/var/backups/fairshare}
days=${FAIRSHARE_BACKUP_RETENTION_DAYS:-7}
case $days in '' | *[!0-9]*) echo "FAIRSHARE_BACKUP_RETENTION_DAYS: not a number: $days" >&2; exit 2 ;; esac

umask 077
mkdir -p "$dir"
stamp=$(date +%Y%m%d-%H%M%S)

# Write under a temporary name and rename once complete: a failed dump never looks
# like a backup, and the retention below never counts it.
pg_dump --format=custom --no-owner --file="$dir/.db-$stamp.dump.part" "$DATABASE_URL"
mv "$dir/.db-$stamp.dump.part" "$dir/db-$stamp.dump"

if [ -d "$FAIRSHARE_DATA_DIR/private" ]; then
    tar -C "$FAIRSHARE_DATA_DIR" -czf "$dir/.private-$stamp.tar.gz.part" private
    mv "$dir/.private-$stamp.tar.gz.part" "$dir/private-$stamp.tar.gz"
fi

# Retention: a backup taken on night N is deleted by the run of night N + days, never
# later (-mmin, so a run a few minutes early still deletes it). Leftover .part files too.
minutes=$(( days * 24 * 60 - 60 ))
find "$dir" -maxdepth 1 -type f \
     \( -name 'db-*.dump' -o -name 'private-*.tar.gz' -o -name '.*.part' \) \
     -mmin +"$minutes" -delete

echo "backup $stamp written to $dir; backups older than $days days deleted"
