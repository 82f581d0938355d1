#!/bin/bash
# PID 1 of L1, in the chroot of this machine's userland: prepare the system (devpts, tracefs,
# kvm_amd, loopback), report to the host through the share's .lab/ready, then run the job runner
# (or, with labmode=shell on the kernel command line, an interactive shell on the console).
share=$1
lab=$share/.lab
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
errors=()
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts || errors+=("mount devpts")
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tracefs nodev /sys/kernel/tracing || errors+=("mount tracefs")
mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
mount -t cgroup2 nodev /sys/fs/cgroup 2>/dev/null
hostname lab
ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || errors+=("loopback up")
version=$(uname -r)
mkdir -p "/lib/modules/$version"
mount --bind "$(cat "$lab/modules")" "/lib/modules/$version" || errors+=("bind the module tree")
kvm_msg=$(modprobe kvm_amd 2>&1) || errors+=("kvm_amd not loadable: modprobe kvm_amd: ${kvm_msg:-failed}")
[ -c /dev/kvm ] || errors+=("no /dev/kvm after modprobe kvm_amd ($(dmesg | grep -i -m2 -E 'kvm|svm' | tr '\n' ' '))")
{
    echo "uptime $(cut -d' ' -f1 /proc/uptime)"
    echo "kernel $version"
    for e in "${errors[@]}"; do echo "error $e"; done
} > "$lab/ready.tmp"
mv "$lab/ready.tmp" "$lab/ready"
if grep -qw labmode=shell /proc/cmdline; then
    python3 "$lab/runner.py" "$share" &
    echo "lab: L1 is up (kernel $version, /dev/kvm $([ -c /dev/kvm ] && echo present || echo MISSING))."
    echo "lab: the repo is at $(cat "$lab/repo") (read-only below, writable tmpfs overlay); exit the shell to stop L1."
    cd "$(cat "$lab/repo")" || cd /
    term=linux
    for arg in $(cat /proc/cmdline); do
        case $arg in
        labterm=*) term=${arg#labterm=} ;;
        labcols=*) stty -F /dev/ttyS0 cols "${arg#labcols=}" ;;
        labrows=*) stty -F /dev/ttyS0 rows "${arg#labrows=}" ;;
        esac
    done
    export LAB_SHARE=$share LAB_TOOLS=$share/tools LAB_GUESTS=$share/guests PAGER=cat
    export LAB_KERNEL=$(cat "$lab/vmlinuz") LAB_REPO=$(cat "$lab/repo")
    echo "lab: run 'source \$LAB_TOOLS/lab.sh' for tiny_vmm and the L2 guest helpers (tests/lab/README.md)."
    PATH=$LAB_REPO/.venv/bin:$LAB_TOOLS:$PATH TERM=$term setsid -c bash -i </dev/ttyS0 >/dev/ttyS0 2>&1
    echo o > /proc/sysrq-trigger
else
    python3 "$lab/runner.py" "$share" &
fi
# PID 1 reaps orphans; if the runner dies, L1 powers off so the host notices at once.
while kill -0 $! 2>/dev/null; do wait; done
echo "lab: the job runner exited; powering off"
echo o > /proc/sysrq-trigger
sleep 60
