#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, with accounting, for the Slurm executor's tests and bench:
# munged, a private MariaDB (own datadir and port, never the machine's 3306), slurmdbd, slurmctld -i
# and slurmd -N localhost, no systemd. Idempotent: a running cluster is left as it is.
#
#   scripts/slurm-local.sh            start (or check) the cluster; prints SLURM_CONF=…
#   scripts/slurm-local.sh stop       stop what this script started
#
# Everything lives under $TANDEM_SLURM_DIR (default /tmp/tandem-slurm); tests find the cluster
# through $TANDEM_SLURM_DIR/slurm.conf. Needs root (SlurmUser=root, and sbatch --uid for step users)
# and Debian's slurm-wlm, slurmdbd, munge and mariadb-server (.ci/run installs them).
# Starting takes ~1 s for Slurm and ~5 s more for MariaDB and slurmdbd.
set -euo pipefail

DIR="${TANDEM_SLURM_DIR:-/tmp/tandem-slurm}"
DB_PORT="${TANDEM_SLURM_DB_PORT:-3407}"
export SLURM_CONF="$DIR/slurm.conf"

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
  for pidfile in slurmd slurmctld slurmdbd mariadb; do
    if running "$DIR/$pidfile.pid"; then kill "$(cat "$DIR/$pidfile.pid")" || true; fi
  done
  echo "slurm-local: stopped"
}

if [ "${1:-start}" = "stop" ]; then
  stop
  exit 0
fi

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/jobs"
chmod 755 "$DIR"
# Job output files of step users land here (sticky, like /tmp).
chmod 1777 "$DIR/jobs"

# munge: one key for the whole machine; munged runs as the munge user.
if ! pgrep -u munge -x munged >/dev/null; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; }
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged
fi

# A private MariaDB for slurmdbd: its own datadir, socket and port.
if ! running "$DIR/mariadb.pid"; then
  if [ ! -d "$DIR/mysql/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$DIR/mysql" --user=root --auth-root-authentication-method=normal \
      --skip-test-db >"$DIR/mariadb-install.log" 2>&1
  fi
  mariadbd --no-defaults --datadir="$DIR/mysql" --user=root --port="$DB_PORT" --bind-address=127.0.0.1 \
    --socket="$DIR/mysql.sock" --pid-file="$DIR/mariadb.pid" --log-error="$DIR/mariadb.log" \
    --innodb-buffer-pool-size=32M --skip-name-resolve >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    mariadb --no-defaults --socket="$DIR/mysql.sock" -uroot -e 'select 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb --no-defaults --socket="$DIR/mysql.sock" -uroot \
    -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
fi

cat >"$DIR/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StorageLoc=slurm_acct_db
PidFile=$DIR/slurmdbd.pid
LogFile=$DIR/slurmdbd.log
EOF
chmod 600 "$DIR/slurmdbd.conf"

# CPUs are what this machine has; memory is only enforced with OverMemoryKill.
cat >"$DIR/slurm.conf.new" <<EOF
ClusterName=tandem
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
MpiDefault=none
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherParams=OverMemoryKill
JobAcctGatherFrequency=1
SchedulerParameters=sched_interval=1
NodeName=localhost CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=localhost MaxTime=1 State=UP
EOF
if ! cmp -s "$DIR/slurm.conf.new" "$DIR/slurm.conf"; then mv "$DIR/slurm.conf.new" "$DIR/slurm.conf"; else rm "$DIR/slurm.conf.new"; fi

if ! running "$DIR/slurmdbd.pid"; then
  # slurmdbd reads slurmdbd.conf beside $SLURM_CONF.
  slurmdbd
  for _ in $(seq 1 100); do
    sacctmgr -n list cluster >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
sacctmgr -i -Q add cluster tandem >/dev/null 2>&1 || true

running "$DIR/slurmctld.pid" || slurmctld -i
running "$DIR/slurmd.pid" || slurmd -N localhost

for _ in $(seq 1 100); do
  state="$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)"
  case "$state" in
    idle | mixed | allocated) break ;;
    down* | drain*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.1
done
state="$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)"
case "$state" in
  idle | mixed | allocated) ;;
  *)
    echo "slurm-local: the node is '${state:-unknown}' (see $DIR/slurmctld.log and $DIR/slurmd.log)" >&2
    exit 1
    ;;
esac
echo "SLURM_CONF=$SLURM_CONF"
