#!/usr/bin/env bash
# slurm-local.sh — a real one-node Slurm (Debian 12: Slurm 22.05) with accounting
# (slurmdbd + a private mariadbd) and memory enforcement, for expt's integration tests.
# Run as root. No systemd needed: every daemon is started here and recorded as
# "<name> <pid> <start-time>" so `stop` can never hit a reused pid or someone else's daemon.
#
#   scripts/slurm-local.sh start    install (apt) if missing, configure, start; idempotent
#   scripts/slurm-local.sh stop     cancel jobs, stop only the daemons this script started
#   scripts/slurm-local.sh status   recorded daemons + sinfo
#
# EXPT_SLURM_DIR (default /tmp/expt-slurm) holds config, logs, spool and the database.
# /etc/slurm/slurm.conf is symlinked to our config so plain `sbatch`/`sacct` find it.
set -euo pipefail

DIR=${EXPT_SLURM_DIR:-/tmp/expt-slurm}
PIDS=$DIR/pids
NODE=$(hostname -s)
DBPORT=13316
export SLURM_CONF=$DIR/etc/slurm.conf
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

say() { printf '[slurm-local] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# field 22 of /proc/<pid>/stat = start time in clock ticks: pid + start time names one process
started_at() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }
# prints the pid recorded for daemon $1 if that very process still runs
alive() {
  [[ -f $PIDS ]] || return 1
  local n p s
  while read -r n p s; do
    [[ $n == "$1" && -n $s && $(started_at "$p") == "$s" ]] && { echo "$p"; return 0; }
  done <"$PIDS"
  return 1
}
retry() {  # retry <seconds> <what> <cmd...>
  local t=$1 what=$2 i; shift 2
  for ((i = 0; i < t * 4; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  die "gave up after ${t}s waiting for $what (logs in $DIR/log)"
}
# start a daemon in foreground mode, detached in its own session; the daemon's pidfile
# is preferred over $! because setpriv/setsid may exec in between
spawn() {  # spawn <name> <pidfile> <cmd...>
  local name=$1 pidfile=$2 i; shift 2
  rm -f "$pidfile"
  setsid "$@" >>"$DIR/log/$name.out" 2>&1 </dev/null &
  local pid=$!
  for ((i = 0; i < 40; i++)); do [[ -s $pidfile ]] && break; sleep 0.25; done
  [[ -s $pidfile ]] && pid=$(tr -dc 0-9 <"$pidfile")
  kill -0 "$pid" 2>/dev/null || die "$name died at start; see $DIR/log/$name.out"
  echo "$name $pid $(started_at "$pid")" >>"$PIDS"
  say "started $name (pid $pid)"
}

install_packages() {
  local want=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server) missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "apt-get install ${missing[*]}"
  # postinst scripts would start munge/mariadb as services; policy-rc.d=101 forbids that,
  # because we start (and later stop) each daemon ourselves
  local own_policy=0
  [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d; own_policy=1; }
  export DEBIAN_FRONTEND=noninteractive
  local ok=1
  apt-get -qq -o DPkg::Lock::Timeout=600 update &&
    apt-get -qq -y -o DPkg::Lock::Timeout=600 install --no-install-recommends "${missing[@]}" >/dev/null || ok=0
  ((own_policy)) && rm -f /usr/sbin/policy-rc.d
  ((ok)) || die "apt-get install failed"
}

# cgroup v1 memory controller writable? then the kernel OOM-kills (sacct: OUT_OF_MEMORY);
# otherwise slurmstepd polls RSS and kills over-limit jobs (OverMemoryKill)
cgroup_v1() {
  local d=/sys/fs/cgroup/memory/expt_slurm_probe
  [[ -d /sys/fs/cgroup/freezer && -d /sys/fs/cgroup/cpuset ]] || return 1
  mkdir -p "$d" 2>/dev/null && echo 104857600 >"$d/memory.limit_in_bytes" 2>/dev/null
  local ok=$?; rmdir "$d" 2>/dev/null || true; return $ok
}

configure() {
  mkdir -p "$DIR"/{etc,log,run,spool/ctld,spool/d}
  local hw cpus mem proctrack=proctrack/cgroup task=task/cgroup memkill=""
  hw=$(/usr/sbin/slurmd -C | head -1)
  cpus=$(grep -o 'CPUs=[0-9]* Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*' <<<"$hw")
  mem=$(( $(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw") - 1024 ))
  if ! cgroup_v1; then
    proctrack=proctrack/linuxproc task=task/none memkill=JobAcctGatherParams=OverMemoryKill
  fi
  cat >"$SLURM_CONF" <<EOF
# written by expt scripts/slurm-local.sh
ClusterName=exptlocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MailProg=/bin/true
StateSaveLocation=$DIR/spool/ctld
SlurmdSpoolDir=$DIR/spool/d
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=$proctrack
TaskPlugin=$task
$memkill
ReturnToService=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# a job without --mem would otherwise get the whole node
DefMemPerCPU=512
# short, deterministic limits for tests (requeue restarts after cred_expire)
AuthInfo=cred_expire=10
SchedulerParameters=sched_interval=5,bf_interval=5
KillWait=5
OverTimeLimit=0
MinJobAge=300
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
NodeName=$NODE NodeAddr=127.0.0.1 $cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$DIR/etc/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
ConstrainRAMSpace=yes
ConstrainSwapSpace=yes
AllowedSwapSpace=0
EOF
  cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=$DIR/log/slurmdbd.log
PidFile=$DIR/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DBPORT
StorageUser=slurm
StoragePass=slurm
EOF
  chmod 600 "$DIR/etc/slurmdbd.conf"
  mkdir -p /etc/slurm
  if [[ -e /etc/slurm/slurm.conf && ! -L /etc/slurm/slurm.conf ]]; then
    say "warning: /etc/slurm/slurm.conf is a real file, left alone; export SLURM_CONF=$SLURM_CONF"
  else
    ln -sfn "$SLURM_CONF" /etc/slurm/slurm.conf
  fi
}

start_munged() {
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && { say "using the munged already running"; return; }
  [[ -s /etc/munge/munge.key ]] || mungekey --create
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 755 /run/munge
  spawn munged /run/munge/munged.pid setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F
  retry 20 munged bash -c 'munge -n | unmunge'
}

start_mariadbd() {
  local db=$DIR/db sock=$DIR/run/mysqld.sock
  if [[ ! -d $db/mysql ]]; then
    mkdir -p "$db" && chown mysql:mysql "$db"
    mariadb-install-db --no-defaults --datadir="$db" --user=mysql --skip-test-db \
      --auth-root-authentication-method=socket >"$DIR/log/mariadb-install.out" 2>&1
  fi
  chown mysql:mysql "$DIR/run"
  spawn mariadbd "$DIR/run/mariadb.pid" /usr/sbin/mariadbd --no-defaults --datadir="$db" \
    --socket="$sock" --port=$DBPORT --bind-address=127.0.0.1 --pid-file="$DIR/run/mariadb.pid" \
    --user=mysql --innodb-buffer-pool-size=64M --skip-name-resolve
  retry 60 mariadbd mariadb-admin --socket="$sock" ping
  mariadb --socket="$sock" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
}

start_slurmdbd() {
  spawn slurmdbd "$DIR/run/slurmdbd.pid" /usr/sbin/slurmdbd -D
  retry 60 slurmdbd sacctmgr -n list cluster
  sacctmgr -n -P list cluster format=cluster | grep -qx exptlocal || sacctmgr -i add cluster exptlocal >/dev/null
}

node_up() { [[ $(sinfo -h -n "$NODE" -o %T 2>/dev/null) =~ ^(idle|mixed|allocated|completing) ]]; }

start() {
  [[ $EUID == 0 ]] || die "run as root"
  if alive slurmctld >/dev/null && alive slurmd >/dev/null && node_up; then say "already running"; return; fi
  local t0=$SECONDS
  install_packages
  local t1=$SECONDS
  configure
  # keep only records of processes that still run (e.g. a half-started earlier attempt)
  local keep="" n p
  for n in "${DAEMONS[@]}"; do p=$(alive "$n") && keep+="$n $p $(started_at "$p")"$'\n'; done
  printf '%s' "$keep" >"$PIDS"
  alive munged >/dev/null || start_munged
  alive mariadbd >/dev/null || start_mariadbd
  alive slurmdbd >/dev/null || start_slurmdbd
  if ! alive slurmctld >/dev/null; then
    spawn slurmctld "$DIR/run/slurmctld.pid" /usr/sbin/slurmctld -D -i
    retry 60 slurmctld scontrol ping
  fi
  alive slurmd >/dev/null || spawn slurmd "$DIR/run/slurmd.pid" /usr/sbin/slurmd -D -N "$NODE"
  sleep 1
  # a node left DOWN by an earlier, killed run is put back into service
  sinfo -h -n "$NODE" -o %T | grep -Eq 'down|drain' && scontrol update nodename="$NODE" state=resume || true
  retry 60 "node $NODE up" node_up
  say "ready: install $((t1 - t0))s, start $((SECONDS - t1))s; $(grep -o 'TaskPlugin=.*' "$SLURM_CONF")"
}

stop() {
  [[ -f $PIDS ]] || { say "nothing recorded in $PIDS"; return 0; }
  local i n p
  if alive slurmctld >/dev/null; then
    local jobs; jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
    if [[ -n ${jobs// /} ]]; then
      say "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 60; i++)); do [[ -z $(squeue -h -o %A 2>/dev/null) ]] && break; sleep 0.5; done
    fi
  fi
  for n in slurmd slurmctld slurmdbd mariadbd munged; do
    p=$(alive "$n") || continue
    local st; st=$(started_at "$p")
    say "stopping $n (pid $p)"
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do [[ $(started_at "$p") == "$st" ]] || break; sleep 0.25; done
    [[ $(started_at "$p") != "$st" ]] || { say "$n ignored SIGTERM; SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }
  done
  rm -f "$PIDS"
  # slurmd's empty cgroup v1 directories (memory/slurm_<node>/...)
  local d
  for d in /sys/fs/cgroup/*/slurm_"$NODE"; do
    [[ -d $d ]] && { find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; }
  done
}

status() {
  local n p
  for n in "${DAEMONS[@]}"; do
    if p=$(alive "$n"); then echo "$n running (pid $p)"; else echo "$n not running (not started by us)"; fi
  done
  sinfo 2>/dev/null || true
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
