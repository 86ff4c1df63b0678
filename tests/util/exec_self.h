/* exec_self.h - run this test binary again as a child scenario.
 *
 * Death tests (stack overflow, abort) run in a fresh process: fork, then
 * exec /proc/self/exe with `--child NAME`, so the child starts with no
 * signal handlers of the parent's (cmocka's, an overflow handler).  Under
 * an emulator (qemu-user without binfmt_misc) the kernel cannot exec a
 * foreign binary: AXON_CORO_TEST_RUNNER, e.g. "qemu-aarch64 -L
 * /usr/aarch64-linux-gnu", names the command to exec it with.
 * Header-only: the coroutine tests link no test utility library. */
#ifndef AXON_TESTS_EXEC_SELF_H
#define AXON_TESTS_EXEC_SELF_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Never returns: exits 125 (no /proc/self/exe) or 127 (exec failed). */
static inline void tu_exec_self(const char *name)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        _exit(125);
    self[n] = '\0';
    char *argv[24];
    int argc = 0;
    static char words[1024];
    const char *runner = getenv("AXON_CORO_TEST_RUNNER");
    if (runner && strlen(runner) < sizeof words) {
        strcpy(words, runner);
        for (char *w = strtok(words, " "); w && argc < 20; w = strtok(NULL, " "))
            argv[argc++] = w;
    }
    argv[argc++] = self;
    argv[argc++] = (char *)"--child";
    argv[argc++] = (char *)name;
    argv[argc] = NULL;
    execvp(argv[0], argv);
    _exit(127);
}

/* Run scenario `name` in a fresh process (fork, then tu_exec_self) and
 * wait for it: its wait status in *status, its stderr (NUL-terminated,
 * cut at cap - 1 bytes) in err.  Returns 0, or -1 when no pipe or process
 * could be made. */
static inline int tu_run_self(const char *name, int *status, char *err, size_t cap)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        tu_exec_self(name);
    }
    close(fd[1]);
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = read(fd[0], err + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    err[n] = '\0';
    close(fd[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return 0;
}

#endif /* AXON_TESTS_EXEC_SELF_H */
