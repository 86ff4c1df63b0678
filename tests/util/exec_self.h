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

#include <stdlib.h>
#include <string.h>
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

#endif /* AXON_TESTS_EXEC_SELF_H */
