#!/bin/busybox sh
# /init of an L2 guest: mount the basics, say "L2-READY" on the serial console, run /work.sh
# (appended to the initramfs by lab_guest_start) if present, then idle until powered off.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp && mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm  # cyclictest keeps its shared state there
echo "L2-READY uptime=$(cut -d' ' -f1 /proc/uptime) cpus=$(grep -c ^processor /proc/cpuinfo)"
if [ -f /work.sh ]; then
    sh /work.sh
    echo "L2-WORK-DONE rc=$?"
fi
while :; do sleep 3600; done
