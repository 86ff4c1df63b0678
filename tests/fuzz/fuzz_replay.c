/* fuzz_replay.c - run a fuzz target without libFuzzer (any compiler):
 *
 *   fuzz_replay frame|handshake                 seeds + 3000 mutations
 *   fuzz_replay frame|handshake FILE|DIR...     replay a corpus
 *   fuzz_replay frame|handshake --write-seeds DIR
 *
 * CTest runs the first form under the normal and sanitizer builds, so the
 * harness and the decoders are exercised in every CI run; scripts/
 * test-net.sh runs the real libFuzzer targets. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_harness.h"

static int mode;
static uint8_t *seeds[16];
static size_t seed_len[16];
static int nseeds;

static void keep_seed(void *arg, const uint8_t *data, size_t size)
{
    (void)arg;
    if (nseeds < 16) {
        seeds[nseeds] = malloc(size);
        memcpy(seeds[nseeds], data, size);
        seed_len[nseeds++] = size;
    }
}

static void write_seed(void *arg, const uint8_t *data, size_t size)
{
    static int k;
    char path[600];
    snprintf(path, sizeof path, "%s/seed-%d", (const char *)arg, k++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        exit(2);
    fclose(f);
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    fuzz_run(mode, buf, n);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "frame") && strcmp(argv[1], "handshake"))) {
        fprintf(stderr, "usage: fuzz_replay frame|handshake [--write-seeds DIR | FILE|DIR...]\n");
        return 2;
    }
    mode = strcmp(argv[1], "frame") == 0 ? FUZZ_FRAMES : FUZZ_HANDSHAKE;
    if (argc > 3 && strcmp(argv[2], "--write-seeds") == 0) {
        mkdir(argv[3], 0755);
        fuzz_seeds(mode, write_seed, argv[3]);
        return 0;
    }
    if (argc > 2) {
        for (int i = 2; i < argc; i++) {
            DIR *d = opendir(argv[i]);
            if (!d) {
                run_file(argv[i]);
                continue;
            }
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                char p[1024];
                snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
                run_file(p);
            }
            closedir(d);
        }
        return 0;
    }
    fuzz_seeds(mode, keep_seed, NULL);
    for (int i = 0; i < nseeds; i++)
        fuzz_run(mode, seeds[i], seed_len[i]);
    /* Mutations: flips, truncations, splices, insertions of big sizes. */
    uint8_t buf[8192];
    int runs = getenv("FUZZ_RUNS") ? atoi(getenv("FUZZ_RUNS")) : 3000;
    for (int r = 0; r < runs; r++) {
        int s = (int)(rnd() % (uint64_t)nseeds);
        size_t len = seed_len[s];
        memcpy(buf, seeds[s], len);
        int edits = 1 + (int)(rnd() % 8);
        for (int e = 0; e < edits && len > 0; e++) {
            size_t at = rnd() % len;
            switch (rnd() % 5) {
            case 0:
                buf[at] ^= (uint8_t)(1u << (rnd() % 8));
                break;
            case 1:
                buf[at] = (uint8_t)rnd();
                break;
            case 2:
                len = at + 1; /* truncate */
                break;
            case 3:
                if (at + 4 <= len) { /* a size field gone wild */
                    uint32_t v = (uint32_t)rnd();
                    memcpy(buf + at, &v, 4);
                }
                break;
            default:
                if (len + 32 < sizeof buf) { /* duplicate a slice */
                    size_t n = rnd() % 32;
                    if (at + n > len)
                        n = len - at;
                    memmove(buf + at + n, buf + at, len - at);
                    len += n;
                }
                break;
            }
        }
        fuzz_run(mode, buf, len);
    }
    for (int i = 0; i < nseeds; i++)
        free(seeds[i]);
    printf("fuzz_replay %s: %d seeds, %d mutations, no crash\n", argv[1], nseeds, runs);
    return 0;
}
