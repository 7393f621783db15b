#!/usr/bin/env bash
# What the event trace costs when it is off: bench/trace_overhead (one bulk
# TCP transfer between two simulated hosts, CPU time) built with the trace
# points compiled in (the default) and compiled out (-DUSTACK_TRACE=OFF),
# run alternately ROUNDS times each; prints the medians and their ratio, and
# the cost of tracing on (every event into a counting callback).
#   bench/trace_overhead.sh [MIB] [ROUNDS]
set -euo pipefail
mib=${1:-256}
rounds=${2:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
for v in ON OFF; do
    dir="$root/build-bench-trace-$v"
    cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release -DUSTACK_TESTS=OFF \
        -DUSTACK_TOOLS=OFF -DUSTACK_TRACE=$v >/dev/null
    cmake --build "$dir" --target trace_overhead -j"$(nproc)" >/dev/null
done
on=() off=() traced=()
for ((i = 0; i < rounds; i++)); do
    on+=("$("$root/build-bench-trace-ON/bench/trace_overhead" -m "$mib" | cut -d' ' -f1)")
    off+=("$("$root/build-bench-trace-OFF/bench/trace_overhead" -m "$mib" | cut -d' ' -f1)")
    traced+=("$("$root/build-bench-trace-ON/bench/trace_overhead" -m "$mib" -t | cut -d' ' -f1)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m_on=$(median "${on[@]}") m_off=$(median "${off[@]}") m_tr=$(median "${traced[@]}")
printf '%-44s %12s\n' "bulk TCP between two simulated hosts" "MiB/s of CPU"
printf '%-44s %12s\n' "trace points compiled out" "$m_off"
printf '%-44s %12s\n' "trace points in, tracing off (the default)" "$m_on"
printf '%-44s %12s\n' "tracing on, every event to a callback" "$m_tr"
awk -v a="$m_on" -v b="$m_off" -v c="$m_tr" 'BEGIN {
    printf "cost of the trace points when off: %.1f%% (aim: at most 2%%)\n", (1 - a / b) * 100
    printf "cost of tracing everything:        %.1f%%\n", (1 - c / b) * 100 }'
