#!/usr/bin/env bash
# Make this machine the streaming standby of the primary (run once, as postgres, data dir empty).
set -euo pipefail
PRIMARY=${PRIMARY:-10.0.2.11}
DATA=${DATA:-/var/lib/postgresql/15/main}
pg_basebackup --host="$PRIMARY" --username=replicator --pgdata="$DATA" \
  --wal-method=stream --write-recovery-conf --slot=ledger_standby --create-slot --progress
# --write-recovery-conf wrote standby.signal and primary_conninfo; name the standby so the
# primary's synchronous_standby_names finds it:
echo "primary_conninfo = 'host=$PRIMARY user=replicator application_name=ledger_standby sslmode=require'" \
  >> "$DATA/postgresql.auto.conf"
