/* tiny_vmm: the smallest useful KVM guest, for fast and predictable VM exits in the lab.
 *
 * Creates a VM with KVM_CREATE_VM and N vCPUs (threads named "vcpuN"), each looping in real
 * mode over `cpuid; out 0x10, al`: every loop is one `cpuid` exit (handled in the kernel) and
 * one `io` exit (handled here). Prints one line per vCPU at the end:
 *     vcpu 0 loops 12345
 * and, first, "tiny_vmm: running pid PID" so a job can attach perf to it.
 *
 * usage: tiny_vmm [-c vcpus] [-d seconds] [-n loops per vcpu] [-r loops per second per vcpu] [-p]
 * Stops at the first of -d / -n (default: -d 5), or on SIGINT/SIGTERM. With -p (idle) the vCPUs
 * are created but never run: a KVM guest with vCPU threads and no exits at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_VCPUS 16
#define CODE_ADDR 0x1000

/* 66 31 c0: xor eax,eax; 0f a2: cpuid; e6 10: out 0x10,al; eb f7: jmp back to the start */
static const unsigned char code[] = {0x66, 0x31, 0xc0, 0x0f, 0xa2, 0xe6, 0x10, 0xeb, 0xf7};

static int vm_fd, kvm_fd, run_size;
static volatile sig_atomic_t stop;
static double duration = -1, rate = 0;
static long max_loops = -1;
static int idle;

struct vcpu { int index; long loops; pthread_t thread; };

static void die(const char *what) { fprintf(stderr, "tiny_vmm: %s: %s\n", what, strerror(errno)); exit(1); }
static void on_signal(int sig) { (void)sig; stop = 1; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

/* A vCPU in real mode at CODE_ADDR, its kvm_run mapped into *run. */
static int new_vcpu(int id, struct kvm_run **run) {
    int fd = ioctl(vm_fd, KVM_CREATE_VCPU, id);
    if (fd < 0) die("KVM_CREATE_VCPU");
    *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (*run == MAP_FAILED) die("mmap kvm_run");
    struct kvm_sregs sregs;
    if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    sregs.cs.base = 0; sregs.cs.selector = 0;
    if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = CODE_ADDR, .rflags = 0x2};
    if (ioctl(fd, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");
    return fd;
}

static void *run_vcpu(void *arg) {
    struct vcpu *v = arg;
    char name[16];
    snprintf(name, sizeof name, "vcpu%d", v->index);
    pthread_setname_np(pthread_self(), name);
    struct kvm_run *run;
    int fd = new_vcpu(v->index, &run), replaced = 0;
    double start = now();
    while (idle && !stop) {  /* -p: a vCPU that exists and never enters guest mode */
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        if (duration >= 0 && now() - start >= duration) break;
    }
    if (idle) return NULL;
    while (!stop) {
        if (ioctl(fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR) continue;
            die("KVM_RUN");
        }
        if (run->exit_reason != KVM_EXIT_IO) {
            /* Seen in the lab (nested SVM under TCG), after SIGSTOP/SIGCONT: a vCPU that runs
             * off its code (an MMIO exit) or that KVM cannot emulate. The guest code cannot do
             * that; go on with a fresh vCPU (a new id) rather than end the run. */
            fprintf(stderr, "tiny_vmm: vcpu %d: unexpected exit reason %u", v->index, run->exit_reason);
            if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
                fprintf(stderr, " (internal error, suberror %u)", run->internal.suberror);
            if (++replaced > 10) { fprintf(stderr, "; giving up\n"); exit(1); }
            fprintf(stderr, "; going on with a fresh vCPU\n");
            munmap(run, run_size);
            close(fd);
            fd = new_vcpu(v->index + MAX_VCPUS * replaced, &run);
            continue;
        }
        v->loops++;
        if (max_loops >= 0 && v->loops >= max_loops) break;
        double t = now();
        if (duration >= 0 && t - start >= duration) break;
        if (rate > 0) {
            double due = start + v->loops / rate;
            if (due > t) {
                double d = due - t;
                struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    int nvcpus = 1, opt;
    while ((opt = getopt(argc, argv, "c:d:n:r:p")) != -1) {
        switch (opt) {
        case 'c': nvcpus = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'n': max_loops = atol(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'p': idle = 1; break;
        default:
            fprintf(stderr, "usage: %s [-c vcpus] [-d seconds] [-n loops] [-r loops/s per vcpu] [-p]\n", argv[0]);
            return 2;
        }
    }
    if (nvcpus < 1 || nvcpus > MAX_VCPUS) { fprintf(stderr, "tiny_vmm: -c must be 1..%d\n", MAX_VCPUS); return 2; }
    if (duration < 0 && max_loops < 0) duration = 5;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) die("open /dev/kvm");
    vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm_fd < 0) die("KVM_CREATE_VM");
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0) die("KVM_GET_VCPU_MMAP_SIZE");
    void *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) die("mmap guest memory");
    memcpy(mem, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = CODE_ADDR, .memory_size = 0x1000, .userspace_addr = (unsigned long)mem};
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
    printf("tiny_vmm: running pid %d with %d vcpus\n", getpid(), nvcpus);
    fflush(stdout);
    struct vcpu vcpus[MAX_VCPUS] = {0};
    for (int i = 0; i < nvcpus; i++) {
        vcpus[i].index = i;
        if (pthread_create(&vcpus[i].thread, NULL, run_vcpu, &vcpus[i]) != 0) die("pthread_create");
    }
    for (int i = 0; i < nvcpus; i++) pthread_join(vcpus[i].thread, NULL);
    for (int i = 0; i < nvcpus; i++) printf("vcpu %d loops %ld\n", i, vcpus[i].loops);
    return 0;
}
