# Helpers for lab jobs, inside L1:  source "$LAB_TOOLS/lab.sh"
#
#   tiny_vmm [-c vcpus] [-d seconds] [-n loops] [-r loops/s]   the tiny VMM ($LAB_TOOLS is on PATH)
#   lab_guest_start NAME [-w 'shell'] [-c 'cyclictest args'] [-s smp] [-m MiB]
#                               start an L2 QEMU guest (daemonized: it outlives the job)
#   lab_guest_wait NAME [timeout_s]   wait until its kernel is up (L2-READY on its console)
#   lab_guest_up NAME [start options]  start and wait, up to 3 tries of $LAB_GUEST_UP_S (180) s
#   lab_guest_pid NAME          its QEMU pid;  lab_guest_alive NAME: is it running
#   lab_guest_obituary NAME     what a guest that is gone left (console, QEMU, L1's dmesg)
#   lab_guest_console NAME      path of its serial console log (in the share: $LAB_GUESTS)
#   lab_guest_stop NAME         kill it and wait until it is gone;  lab_guest_stop_all
#   lab_wait PID [timeout_s] [NAME]   wait for a background job; on a hang: stacks saved, SIGKILL
#
# An L2 guest boots $LAB_KERNEL with a busybox initramfs; -w runs a shell snippet after boot,
# -c runs cyclictest with those arguments after it (output on the console). vCPU threads are
# named "CPU n/KVM" (-name NAME,debug-threads=on).

lab_guest_console() { echo "$LAB_GUESTS/$1.console"; }

lab_guest_pid() {
    local f="$LAB_GUESTS/$1.pid"
    [ -s "$f" ] || { echo "lab_guest_pid: no guest $1" >&2; return 1; }
    cat "$f"
}

lab_guest_start() {
    local name=$1 work="" ct="" smp=2 mem=256 opt
    shift
    OPTIND=1
    while getopts "w:c:s:m:" opt; do
        case $opt in
        w) work=$OPTARG ;; c) ct=$OPTARG ;; s) smp=$OPTARG ;; m) mem=$OPTARG ;;
        *) echo "lab_guest_start: bad option" >&2; return 2 ;;
        esac
    done
    mkdir -p "$LAB_GUESTS"
    local dir
    dir=$(mktemp -d)
    {
        [ -n "$work" ] && printf '%s\n' "$work"
        [ -n "$ct" ] && printf 'cyclictest %s\necho "L2-CYCLICTEST-DONE rc=$?"\n' "$ct"
    } > "$dir/work.sh"
    cp "$LAB_TOOLS/l2-base.cpio" "$LAB_GUESTS/$name.cpio"
    (cd "$dir" && echo work.sh | busybox cpio -o -H newc 2>/dev/null) >> "$LAB_GUESTS/$name.cpio"
    rm -rf "$dir"
    rm -f "$LAB_GUESTS/$name.pid" "$LAB_GUESTS/$name.console" "$LAB_GUESTS/$name.log"
    # in its own session, outliving the job; not -daemonize, which sends QEMU's stderr to
    # /dev/null: a guest that dies says why in NAME.log (KVM errors, aborts)
    setsid qemu-system-x86_64 -enable-kvm -cpu host -smp "$smp" -m "$mem" \
        -name "$name,debug-threads=on" -nodefaults -display none -monitor none -no-reboot \
        -serial "file:$LAB_GUESTS/$name.console" \
        -kernel "$LAB_KERNEL" -initrd "$LAB_GUESTS/$name.cpio" \
        -append "console=ttyS0 quiet panic=-1 mitigations=off" \
        -pidfile "$LAB_GUESTS/$name.pid" < /dev/null > /dev/null 2>> "$LAB_GUESTS/$name.log" &
    local qemu=$! i
    for ((i = 0; i < 300; i++)); do  # QEMU writes the pid file early in its start
        [ -s "$LAB_GUESTS/$name.pid" ] && return 0
        kill -0 "$qemu" 2> /dev/null || break
        sleep 0.1
    done
    echo "lab_guest_start: QEMU for $name did not start: $(tail -5 "$LAB_GUESTS/$name.log")" >&2
    return 1
}

lab_guest_wait() {
    local name=$1 timeout=${2:-300} pid end
    pid=$(lab_guest_pid "$name") || return 1
    end=$((SECONDS + timeout))  # wall clock: each look takes a while under TCG
    while ((SECONDS < end)); do
        if grep -q L2-READY "$LAB_GUESTS/$name.console" 2>/dev/null; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "lab_guest_wait: guest $name (pid $pid) died; console:" >&2
            tail -20 "$LAB_GUESTS/$name.console" >&2
            echo "--- qemu's messages ($name.log) ---" >&2
            tail -20 "$LAB_GUESTS/$name.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "lab_guest_wait: guest $name not up after ${timeout}s; console:" >&2
    tail -20 "$LAB_GUESTS/$name.console" >&2
    return 1
}

lab_guest_stop() {
    local pid i
    pid=$(lab_guest_pid "$1" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$LAB_GUESTS/$1.pid"
}

# start NAME and wait until it is up; one not up within UP_S is stopped and started again (seen
# under TCG: an L2 guest alive but silent for 15 minutes, while its twins boot in 15-60 s)
LAB_GUEST_UP_S=${LAB_GUEST_UP_S:-180}
lab_guest_up() {
    local name=$1 try
    for try in 1 2 3; do
        lab_guest_start "$@" || return 1
        lab_guest_wait "$name" "$LAB_GUEST_UP_S" && return 0
        echo "lab_guest_up: $name not up (try $try of 3)" >&2
        lab_guest_stop "$name"
    done
    return 1
}

lab_guest_stop_all() {
    local f
    for f in "$LAB_GUESTS"/*.pid; do [ -e "$f" ] && lab_guest_stop "$(basename "$f" .pid)"; done
    return 0
}

# vCPU threads of a guest (QEMU "CPU n/KVM", tiny VMM "vcpuN"): one "INDEX TID" line each
lab_vcpu_tids() {
    local pid=$1 t comm
    for t in /proc/"$pid"/task/*; do
        comm=$(cat "$t/comm" 2>/dev/null) || continue
        case $comm in
        "CPU "*/KVM) comm=${comm#CPU }; echo "${comm%/KVM} ${t##*/}" ;;
        vcpu[0-9]*) echo "${comm#vcpu} ${t##*/}" ;;
        esac
    done | sort -n
}

# lab_pin PID [CPU...]: pin vCPU i of PID to the i-th CPU given (default: CPU i); only as
# many vCPUs as CPUs given when some are given.   lab_unpin PID: every vCPU to every CPU.
lab_pin() {
    local pid=$1 i tid
    shift
    local cpus=("$@")
    lab_vcpu_tids "$pid" | while read -r i tid; do
        if ((${#cpus[@]})); then
            ((i < ${#cpus[@]})) || continue
            taskset -pc "${cpus[$i]}" "$tid" > /dev/null
        else
            taskset -pc "$i" "$tid" > /dev/null
        fi
    done
}

lab_unpin() {
    local i tid
    lab_vcpu_tids "$1" | while read -r i tid; do taskset -pc "0-$(($(nproc) - 1))" "$tid" > /dev/null; done
}

# lab_guest_obituary NAME: what a guest that is gone left (console, QEMU's messages, L1's
# kernel log), on stdout; nothing when NAME never ran or still runs
lab_guest_obituary() {
    local pid
    pid=$(lab_guest_pid "$1" 2> /dev/null) || return 0
    lab_guest_alive "$1" && return 0
    echo "lab_guest_obituary: guest $1 (pid $pid) is gone; its console ends:"
    tail -8 "$LAB_GUESTS/$1.console" 2> /dev/null
    echo "--- QEMU's messages ($1.log) ---"
    tail -8 "$LAB_GUESTS/$1.log" 2> /dev/null
    echo "--- L1's kernel log ---"
    dmesg 2> /dev/null | grep -i -E 'kvm|svm|oom|killed|qemu|segfault|trap' | tail -8
}

# lab_guest_alive NAME: true when NAME's QEMU is running
lab_guest_alive() {
    local pid
    pid=$(lab_guest_pid "$1" 2> /dev/null) || return 1
    [[ $(cat "/proc/$pid/comm" 2> /dev/null) == qemu-system-* ]]
}

# lab_wait PID [timeout_s=120] [NAME]: wait for a background job of this shell and return its
# status; if it outlives the timeout (seen: a stop that never finished, nested SVM under TCG),
# save what it and its children were doing in $LAB_OUT/hung-NAME.txt, SIGKILL them, return 124.
lab_wait() {
    local pid=$1 timeout=${2:-120} name=${3:-$1} i kids p
    for ((i = 0; i < timeout * 5; i++)); do
        kill -0 "$pid" 2> /dev/null || { wait "$pid"; return $?; }
        sleep 0.2
    done
    kids=$(pgrep -P "$pid" | tr '\n' ' ')
    {
        ps -eo pid,ppid,stat,wchan:32,etime,args
        for p in $pid $kids; do
            echo "== $p $(tr '\0' ' ' < /proc/$p/cmdline 2> /dev/null)"
            for t in /proc/$p/task/*; do
                echo "-- $t $(cat $t/comm 2> /dev/null) $(cut -d' ' -f3 $t/stat 2> /dev/null)"
                cat $t/stack 2> /dev/null
            done
        done
    } > "$LAB_OUT/hung-$name.txt" 2>&1
    kill -9 $pid $kids 2> /dev/null
    echo "lab_wait: $name (pid $pid) still running after ${timeout}s: see hung-$name.txt" >&2
    return 124
}
