#!/usr/bin/env bash
# A real single-node SLURM on this machine (Debian packages), for tests:
#   tools/slurm/local-cluster.sh up     install if needed, configure, start munged, mariadb, slurmdbd,
#                                       slurmctld and slurmd; idempotent
#   tools/slurm/local-cluster.sh down   stop the daemons by their pid files
#   tools/slurm/local-cluster.sh status
# Loopback only; accounting on (submitit needs sacct to see jobs that die). Needs root and apt.
set -euo pipefail

STATE=${VIS_SLURM_STATE:-/var/lib/vis-slurm}
RUN=$STATE/run
CONF=/etc/slurm
PKGS="slurmctld slurmd slurm-client slurmdbd munge mariadb-server"

die() { echo "local-cluster: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "needs root (it installs Debian packages and starts daemons)"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install() {
    command -v apt-get >/dev/null || die "needs apt-get (Debian or Ubuntu)"
    local missing=""
    for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] && return
    echo "local-cluster: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

configure() {
    mkdir -p "$RUN" "$STATE/ctld" "$STATE/d" /var/log/slurm "$CONF"
    chown -R slurm:slurm "$STATE" /var/log/slurm 2>/dev/null || true
    local node cpus mem
    node=$(hostname -s)
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
    cat > "$CONF/slurm.conf" <<CONF
ClusterName=vis
SlurmctldHost=$node(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
AuthInfo=cred_expire=5
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=sched_interval=1,bf_interval=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
MailProg=/bin/true
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    cat > "$CONF/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=$node
DbdAddr=127.0.0.1
CommunicationParameters=NoInAddrAny
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=vis
StoragePort=3306
CONF
    chown slurm:slurm "$CONF/slurmdbd.conf"
    chmod 600 "$CONF/slurmdbd.conf"
}

start_munge() {
    alive /run/munge/munged.pid && return
    mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    chmod 755 /run/munge
    [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null;
        chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    su -s /bin/sh munge -c "/usr/sbin/munged --pid-file=/run/munge/munged.pid"
}

start_mariadb() {
    local pidf=/run/mysqld/mysqld.pid
    alive "$pidf" && return
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    (mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock --pid-file="$pidf" \
        >/var/log/slurm/mariadb.log 2>&1 &)
    for _ in $(seq 60); do mariadb-admin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1 && break; sleep 0.5; done
    mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'vis';
                GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
}

up() {
    need_root
    install
    configure
    start_munge
    start_mariadb
    alive "$RUN/slurmdbd.pid" || slurmdbd
    for _ in $(seq 40); do timeout 5 sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
    alive "$RUN/slurmctld.pid" || slurmctld
    alive "$RUN/slurmd.pid" || slurmd
    for _ in $(seq 60); do
        timeout 5 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && { status; return; }
        sleep 0.5
    done
    die "the node did not come up; see /var/log/slurm/"
}

down() {
    need_root
    for f in "$RUN/slurmd.pid" "$RUN/slurmctld.pid" "$RUN/slurmdbd.pid" /run/mysqld/mysqld.pid; do
        if alive "$f"; then kill "$(cat "$f")"; fi
    done
    if alive /run/munge/munged.pid; then kill "$(cat /run/munge/munged.pid)"; fi
    echo "local-cluster: stopped"
}

status() { timeout 10 sinfo 2>/dev/null || die "no controller reachable"; }

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) die "usage: $0 up|down|status" ;;
esac
