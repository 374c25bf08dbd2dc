#!/usr/bin/env bash
# Runs a command with any running `vlat train` paused (SIGSTOP), and resumes the trainer
# (SIGCONT) however the command ends: benchmarks beside the trainer move by 10-30 % on a
# 2-core machine, even with the trainer at nice 19.
#
#   Scripts/with_trainer_paused.sh COMMAND [ARGS...]
#   Scripts/with_trainer_paused.sh env QUALITY=8 OLD_QUALITY=4 Scripts/speed_vs_commit.sh 753cd6d 2 1
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: Scripts/with_trainer_paused.sh COMMAND [ARGS...]" >&2; exit 2; }
pids=$(pgrep -f 'vlat train' || true)
[ -n "$pids" ] && kill -STOP $pids
trap '[ -n "$pids" ] && kill -CONT $pids' EXIT
sleep 1
"$@"
