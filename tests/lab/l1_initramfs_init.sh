#!/bin/busybox sh
# /init of the lab's L1 initramfs: mount this machine's / (read-only virtfs "hostroot") under a
# tmpfs overlay, mount the writable share "labshare" at its host path, and chroot into it to run
# the share's l1-init.sh (as PID 1). Kernel parameters: labshare=<host path of the share>.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
    echo "lab-init: FAILED: $*"
    echo o > /proc/sysrq-trigger
    sleep 60
}
for m in $(cat /modules.order); do
    insmod "/modules/$m" || fail "insmod $m"
done
share=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in labshare=*) share="${arg#labshare=}" ;; esac
done
[ -n "$share" ] || fail "no labshare= on the kernel command line"
mkdir -p /hostroot /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /hostroot \
    || fail "mount the host root (virtfs hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/hostroot,upperdir=/rw/upper,workdir=/rw/work /newroot \
    || fail "overlay the host root"
mkdir -p "/newroot$share"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 labshare "/newroot$share" \
    || fail "mount the share (virtfs labshare) at $share"
for d in proc sys dev; do
    mount --move "/$d" "/newroot/$d" || fail "move /$d"
done
echo "lab-init: chroot after $(cut -d' ' -f1 /newroot/proc/uptime) s"
exec chroot /newroot /bin/bash "$share/.lab/l1-init.sh" "$share"
