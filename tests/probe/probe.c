/* A tiny probe that reports from inside a container (crun's tests/init.c idea).
 *
 *   probe ATTEMPT [ARG]   tries one escape, prints "denied ERRNO" (exit 0) or "allowed" (exit 1)
 *   probe list            prints every attempt's name
 *   probe ids             prints "uid euid gid egid"
 *   probe pause           waits for a signal, forever (an app whose image has nothing else)
 *   probe udp-echo PORT   answers one UDP datagram on PORT with "got:" and the datagram (busybox nc has no -u)
 *   probe exe-attack PID [FILE]  the runc CVE-2019-5736 steps against PID (a runtime process in our pid namespace):
 *                         one line per step, "STEP denied ERRNO" or "STEP allowed [DETAIL]"; changes nothing;
 *                         with FILE, a child keeps the binary and tries again into FILE once FILE.go exists
 *
 * Built statically by the test fixture from this source; never committed as a binary. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

static const char *arg;

static int result(long rc) { return rc < 0 ? -errno : 0; }

static int t_mount(void) { return result(mount("none", "/tmp", "tmpfs", 0, NULL)); }
static int t_remount_root_rw(void) { return result(mount(NULL, "/", NULL, MS_REMOUNT, NULL)); }
static int t_umount_proc(void) { return result(umount2("/proc", MNT_DETACH)); }
static int t_init_module(void) { return result(syscall(SYS_init_module, "", 0, "")); }
static int t_finit_module(void) { int fd = open("/bin/busybox", O_RDONLY); return result(syscall(SYS_finit_module, fd, "", 0)); }
static int t_ptrace_host(void) { return result(ptrace(PTRACE_ATTACH, atoi(arg), 0, 0)); }
static int t_raw_socket(void) { return result(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)); }
static int t_packet_socket(void) { return result(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))); }
static int t_read_kcore(void) {
    char buf[16]; int fd = open("/proc/kcore", O_RDONLY);
    if (fd < 0) return -errno;
    long n = read(fd, buf, sizeof buf);
    return n > 0 ? 0 : -EACCES;  /* masked: /dev/null reads nothing */
}
static int t_sysrq(void) { int fd = open("/proc/sysrq-trigger", O_WRONLY); return fd < 0 ? -errno : result(write(fd, "h", 1)); }
static int t_proc_sys(void) { int fd = open("/proc/sys/kernel/domainname", O_WRONLY); return fd < 0 ? -errno : result(write(fd, "x", 1)); }
static int t_write_sys(void) { int fd = open("/sys/kernel/uevent_helper", O_WRONLY); return fd < 0 ? -errno : result(write(fd, "x", 1)); }
static int t_write_self_exe(void) { return result(open("/proc/self/exe", O_WRONLY)); }
static int t_host_file_proc1_root(void) { char p[512]; snprintf(p, sizeof p, "/proc/1/root%s", arg); return result(open(p, O_RDONLY)); }
static int t_mknod_disk(void) { return result(mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0))); }
static int t_dev_mem(void) { return result(open("/dev/mem", O_RDONLY)); }
static int t_unshare_user(void) { return result(unshare(CLONE_NEWUSER)); }
static int t_unshare_mount(void) { return result(unshare(CLONE_NEWNS)); }
static int t_clone_newns(void) {
    long rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) _exit(0);
    return rc < 0 ? -errno : 0;
}
static int t_setns_host(void) { char p[64]; snprintf(p, sizeof p, "/proc/%s/ns/net", arg); int fd = open(p, O_RDONLY); return fd < 0 ? -errno : result(setns(fd, 0)); }
static int t_keyctl(void) { return result(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "x")); }
static int t_add_key(void) { return result(syscall(SYS_add_key, "user", "x", "y", 1, KEY_SPEC_PROCESS_KEYRING)); }
static int t_bpf(void) { union bpf_attr a; memset(&a, 0, sizeof a); return result(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a)); }
static int t_perf_event(void) {
    struct perf_event_attr a; memset(&a, 0, sizeof a); a.size = sizeof a; a.type = PERF_TYPE_SOFTWARE;
    return result(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
}
static int t_kexec(void) { return result(syscall(SYS_kexec_load, 0, 0, 0, 0)); }
static int t_reboot(void) { return result(syscall(SYS_reboot, 0, 0, 0, NULL)); }  /* bad magic: harmless if allowed */
static int t_swapon(void) { return result(swapon("/tmp/swap", 0)); }
static int t_clock_settime(void) { struct timeval t; gettimeofday(&t, NULL); return result(settimeofday(&t, NULL)); }  /* same time: harmless */
static int t_open_by_handle(void) { char h[64] = {0}; return result(syscall(SYS_open_by_handle_at, AT_FDCWD, h, O_RDONLY)); }
static int t_userfaultfd(void) { return result(syscall(SYS_userfaultfd, 0)); }
static int t_iopl(void) {
#ifdef SYS_iopl
    return result(syscall(SYS_iopl, 3));
#else
    return -ENOSYS;
#endif
}
static int t_sethostname(void) { return result(sethostname("escaped", 7)); }
static int t_chroot_escape(void) {
    /* The classic breakout: chroot into a subfolder, climb out with .., chroot there. */
    mkdir("/tmp/jail", 0700);
    if (chroot("/tmp/jail") < 0) return -errno;
    for (int i = 0; i < 64; i++) if (chdir("..") < 0) return -errno;
    if (chroot(".") < 0) return -errno;
    return result(open(arg, O_RDONLY));  /* a host file: must not be reachable */
}
static int t_personality(void) { return result(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */)); }

struct attempt { const char *name; int (*fn)(void); };
static const struct attempt attempts[] = {
    {"mount", t_mount}, {"remount-root-rw", t_remount_root_rw}, {"umount-proc", t_umount_proc},
    {"init-module", t_init_module}, {"finit-module", t_finit_module}, {"ptrace-host", t_ptrace_host},
    {"raw-socket", t_raw_socket}, {"packet-socket", t_packet_socket}, {"read-kcore", t_read_kcore},
    {"sysrq-trigger", t_sysrq}, {"write-proc-sys", t_proc_sys}, {"write-sys", t_write_sys},
    {"write-self-exe", t_write_self_exe}, {"host-file-proc1-root", t_host_file_proc1_root},
    {"mknod-disk", t_mknod_disk}, {"dev-mem", t_dev_mem}, {"unshare-user", t_unshare_user},
    {"unshare-mount", t_unshare_mount}, {"clone-newuser", t_clone_newns}, {"setns-host", t_setns_host},
    {"keyctl", t_keyctl}, {"add-key", t_add_key}, {"bpf", t_bpf}, {"perf-event-open", t_perf_event},
    {"kexec-load", t_kexec}, {"reboot", t_reboot}, {"swapon", t_swapon}, {"clock-settime", t_clock_settime},
    {"open-by-handle-at", t_open_by_handle}, {"userfaultfd", t_userfaultfd}, {"iopl", t_iopl},
    {"sethostname", t_sethostname}, {"chroot-escape", t_chroot_escape}, {"personality", t_personality},
};

static int udp_echo(int port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)}, peer;
    socklen_t peer_len = sizeof peer;
    char buffer[512] = "got:";
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("udp-echo"); return 2; }
    puts("ready");
    fflush(stdout);
    ssize_t n = recvfrom(s, buffer + 4, sizeof buffer - 4, 0, (struct sockaddr *)&peer, &peer_len);
    if (n < 0 || sendto(s, buffer, n + 4, 0, (struct sockaddr *)&peer, peer_len) < 0) { perror("udp-echo"); return 2; }
    return 0;
}

static void report(const char *step, int rc, const char *detail) {
    if (rc < 0) printf("%s denied %s\n", step, strerrorname_np(-rc) ? strerrorname_np(-rc) : "?");
    else printf("%s allowed %s\n", step, detail);
}

/* Reopens the held binary for writing and writes back its first byte: proves the write, changes nothing. */
static void try_write(const char *prefix, int held) {
    char path[64], step[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", held);
    int w = open(path, O_RDWR);  /* no O_TRUNC */
    for (int i = 0; *prefix && w < 0 && errno == ETXTBSY && i < 500; i++) {  /* until the last user is gone */
        usleep(10000);
        w = open(path, O_RDWR);
    }
    snprintf(step, sizeof step, "%sreopen-exe-for-writing", prefix);
    report(step, w < 0 ? -errno : 0, "");
    if (w < 0) return;
    char byte;
    long done = pread(w, &byte, 1, 0) == 1 ? pwrite(w, &byte, 1, 0) : -1;
    snprintf(step, sizeof step, "%swrite-exe", prefix);
    report(step, done < 0 ? -errno : 0, "");
    close(w);
}

/* CVE-2019-5736 proper: keep the binary, and write it once the runtime is gone (no ETXTBSY then):
 * the test creates OUT.go when the exec has returned. */
static void after_exit(int held, const char *out) {
    if (fork() != 0) return;
    char go[256];
    snprintf(go, sizeof go, "%s.go", out);
    for (int fd = 3; fd < 1024; fd++)  /* the FIFO our shell holds too: its reader must see its end */
        if (fd != held) close(fd);
    for (int i = 0; i < 600 && access(go, F_OK) != 0; i++) usleep(50000);
    if (!freopen(out, "w", stdout)) _exit(2);
    try_write("after-exit-", held);
    fflush(stdout);
    _exit(0);
}

static int exe_attack(int pid, const char *after) {
    char exe[64], path[64], link[256] = "";
    snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
    ssize_t n = readlink(exe, link, sizeof link - 1);
    report("readlink-exe", n < 0 ? -errno : 0, n < 0 ? "" : link);
    int held = open(exe, O_PATH);  /* the attack holds the binary, then reopens it for writing */
    report("open-exe", held < 0 ? -errno : 0, "");
    if (held >= 0) {
        try_write("", held);
        if (*after) { fflush(stdout); after_exit(held, after); }
    }
    int w = open(exe, O_WRONLY);
    report("open-exe-for-writing", w < 0 ? -errno : 0, "");
    if (w >= 0) close(w);
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    int fds = open(path, O_RDONLY | O_DIRECTORY);
    report("list-fds", fds < 0 ? -errno : 0, "");
    if (fds >= 0) close(fds);
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    int env = open(path, O_RDONLY);
    report("read-environ", env < 0 ? -errno : 0, "");
    if (env >= 0) close(env);
    long traced = ptrace(PTRACE_SEIZE, pid, 0, 0);
    report("ptrace", traced < 0 ? -errno : 0, "");
    if (traced == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: probe ATTEMPT [ARG] | list | ids\n"); return 2; }
    arg = argc > 2 ? argv[2] : "";
    if (!strcmp(argv[1], "udp-echo")) return udp_echo(atoi(arg));
    if (!strcmp(argv[1], "pause")) { for (;;) pause(); }
    if (!strcmp(argv[1], "exe-attack")) return exe_attack(atoi(arg), argc > 3 ? argv[3] : "");
    if (!strcmp(argv[1], "ids")) { printf("%d %d %d %d\n", getuid(), geteuid(), getgid(), getegid()); return 0; }
    for (size_t i = 0; i < sizeof attempts / sizeof *attempts; i++) {
        if (!strcmp(argv[1], "list")) { puts(attempts[i].name); continue; }
        if (strcmp(argv[1], attempts[i].name)) continue;
        int rc = attempts[i].fn();
        if (rc == 0) { puts("allowed"); return 1; }
        printf("denied %s\n", strerrorname_np(-rc) ? strerrorname_np(-rc) : "?");
        return 0;
    }
    if (!strcmp(argv[1], "list")) return 0;
    fprintf(stderr, "unknown attempt %s\n", argv[1]);
    return 2;
}
