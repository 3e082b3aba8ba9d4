# Helpers shared by the GPU-BLAST harness scripts (sourced, not run).

# The Python that has matplotlib on Debian (a pyenv shim may shadow it).
blast_python() {
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi
}

# Seconds since the epoch with microseconds (bash 5's EPOCHREALTIME).
blast_now() { echo "${EPOCHREALTIME/,/.}"; }

# blast_elapsed START: seconds since START, 3 decimals.
blast_elapsed() { awk -v a="$1" -v b="$(blast_now)" 'BEGIN { printf "%.3f", b - a }'; }

# A one-line description of this machine's CPU, for the table's machine column.
blast_cpu_name() {
  local model
  model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
  echo "${model:-unknown CPU}, $(nproc) cores"
}

blast_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The runs table: one CSV row per run, merged by report.py.
BLAST_RUNS_HEADER="scenario,machine,db_residues,query_length,threads,repeat,seconds,hits,status"

# blast_run_once CSV SCENARIO MACHINE DB_RESIDUES QLEN THREADS REPEAT OUT_TSV LOG TIMEOUT_S -- CMD...
# Runs CMD (its stdout to OUT_TSV, stderr to LOG) under a time limit and
# appends a row to CSV. Prints the seconds (or the failure) and returns
# the command's status.
blast_run_once() {
  local csv=$1 scenario=$2 machine=$3 db=$4 qlen=$5 threads=$6 rep=$7 tsv=$8 log=$9 limit=${10}
  shift 11
  local start rc secs hits status
  start=$(blast_now)
  timeout "$limit" "$@" >"$tsv" 2>"$log"
  rc=$?
  secs=$(blast_elapsed "$start")
  hits=$(wc -l <"$tsv" | tr -d ' ')
  case $rc in
    0) status=ok ;;
    124) status=timeout ;;
    *) status="exit-$rc" ;;
  esac
  echo "$scenario,\"$machine\",$db,$qlen,$threads,$rep,$secs,$hits,$status" >>"$csv"
  echo "$secs s, $hits hits, $status"
  return $rc
}
