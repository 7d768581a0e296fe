#!/bin/sh
# deploy/restore.sh DUMP [PRIVATE_TAR]: restore a backup of deploy/backup.sh into the
# database of DATABASE_URL (which must exist and be empty: createdb -O fairshare fairshare)
# and the private uploads into FAIRSHARE_DATA_DIR. docs/deploy.md, "Restore".
#
# Stop the web, outbox and timer units first. Afterwards this script runs
# `fairshare verify_ledger` (the restored ledger must verify) and `fairshare purge_due`
# (a restore brings back personal data purged since the dump was taken).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 DUMP [PRIVATE_TAR]" >&2
    exit 2
fi
dump=$1
private=${2:-}

ENV_FILE=${ENV_FILE:-/etc/fairshare/env}
if [ -z "${DATABASE_URL:-}" ] && [ -r "$ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
fi
: "${DATABASE_URL:?DATABASE_URL must be set (postgres://...)}"
: "${FAIRSHARE_DATA_DIR:?FAIRSHARE_DATA_DIR must be set}"
FAIRSHARE=${FAIRSHARE:-/srv/fairshare/.venv/bin/fairshare}

# --exit-on-error: a partial restore is an error, not a warning; --single-transaction:
# all or nothing.
pg_restore --exit-on-error --single-transaction --no-owner --dbname="$DATABASE_URL" "$dump"

if [ -n "$private" ]; then
    umask 077
    mkdir -p "$FAIRSHARE_DATA_DIR"
    tar -C "$FAIRSHARE_DATA_DIR" -xzf "$private"
fi

"$FAIRSHARE" verify_ledger
"$FAIRSHARE" purge_due
echo "restored $dump; ledger verified; due purges applied"
