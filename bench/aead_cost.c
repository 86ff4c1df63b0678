/* aead_cost - what a TLS link's cipher alone costs per message hop.
 *
 * A TLS hop encrypts the frame once (sender) and decrypts it once
 * (receiver), in records of up to 16 KiB.  This program does exactly that
 * work with OpenSSL's EVP interface and nothing else: a working set of
 * plaintext (default 1 MiB: ring_dist's 1024 messages of 1 KiB in flight)
 * is sealed record by record into a ciphertext buffer (a fresh nonce and
 * 5 bytes of associated data per record, as TLS 1.3 does), then opened
 * record by record into a third buffer, and the tags are checked.  No
 * sockets, no copies besides the cipher's own output.
 *
 *   aead_cost [--cipher aes-128-gcm|aes-256-gcm|chacha20-poly1305]
 *             [--payload S] [--window KIB] [--record BYTES] [--seconds T]
 *             [--runs R]
 *
 * It prints one line per run:
 *   aead_cost cipher=C record=R window_kib=W payload=S seal_gb_s=X open_gb_s=Y ns_per_hop=N
 * and, with --runs > 1, a final "median" line in the same format.
 * ns_per_hop is the sealing plus opening time of one frame (S payload
 * bytes and the 24-byte frame header, record overhead shared out): a
 * floor under the CPU time a TLS hop costs more than a plain one.
 * Exit status 1 if a tag fails to verify (the run is then meaningless). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define FRAME_HDR 24 /* axon's frame header, net/wire.h */
#define TAG       16
#define REC_HDR   5
#define MAX_RUNS  64

typedef struct opts {
    const char *cipher;
    size_t payload, window, record;
    double seconds;
    int runs;
} opts;

typedef struct result {
    double seal_gbs, open_gbs, ns_per_hop;
} result;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: aead_cost [--cipher aes-128-gcm|aes-256-gcm|chacha20-poly1305]\n"
                    "                 [--payload S] [--window KIB] [--record BYTES]\n"
                    "                 [--seconds T] [--runs R]\n");
    exit(2);
}

static void parse(int argc, char **argv, opts *o)
{
    *o = (opts){"aes-128-gcm", 1024, 1024 * 1024, 16384, 1.0, 1};
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *k = argv[i], *v = argv[++i];
        char *end;
        double d = strtod(v, &end);
        if (strcmp(k, "--cipher") == 0) {
            o->cipher = v;
            continue;
        }
        if (*end != '\0' || d < 0)
            usage();
        if (strcmp(k, "--payload") == 0)
            o->payload = (size_t)d;
        else if (strcmp(k, "--window") == 0)
            o->window = (size_t)d * 1024;
        else if (strcmp(k, "--record") == 0)
            o->record = (size_t)d;
        else if (strcmp(k, "--seconds") == 0)
            o->seconds = d;
        else if (strcmp(k, "--runs") == 0)
            o->runs = (int)d;
        else
            usage();
    }
    if (o->record < 64 || o->record > 16384 || o->window < o->record || o->runs < 1 ||
        o->runs > MAX_RUNS || o->seconds <= 0)
        usage();
}

/* The nonce of record `seq`: the base IV with the sequence number xored
 * into its last 8 bytes (RFC 8446, 5.3). */
static void nonce_for(const unsigned char iv[12], uint64_t seq, unsigned char out[12])
{
    memcpy(out, iv, 12);
    for (int i = 0; i < 8; i++)
        out[11 - i] ^= (unsigned char)(seq >> (8 * i));
}

/* Seal (enc = 1: the tag is written to tag) or open (enc = 0: the tag is
 * checked against tag) one record of n bytes from in to out. */
static int crypt_record(EVP_CIPHER_CTX *c, int enc, const unsigned char *iv, uint64_t seq,
                        const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    unsigned char nonce[12],
        aad[REC_HDR] = {23, 3, 3, (unsigned char)((n + TAG) >> 8), (unsigned char)(n + TAG)};
    int len;
    nonce_for(iv, seq, nonce);
    if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, enc) != 1 ||
        EVP_CipherUpdate(c, NULL, &len, aad, REC_HDR) != 1 ||
        EVP_CipherUpdate(c, out, &len, in, (int)n) != 1)
        return 0;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, tag) != 1)
        return 0;
    if (EVP_CipherFinal_ex(c, out + len, &len) != 1)
        return 0;
    return !enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, tag) == 1;
}

static int one_run(const opts *o, const EVP_CIPHER *cipher, result *r)
{
    size_t nrec = o->window / o->record, stride = o->record + TAG;
    unsigned char *plain = malloc(o->window), *sealed = malloc(nrec * stride),
                  *opened = malloc(o->window);
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
    unsigned char key[32], iv[12];
    int ok = plain && sealed && opened && enc && dec;
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 1);
    for (size_t i = 0; i < sizeof iv; i++)
        iv[i] = (unsigned char)(i * 13 + 5);
    for (size_t i = 0; ok && i < o->window; i++)
        plain[i] = (unsigned char)(i * 31);
    ok = ok && EVP_EncryptInit_ex(enc, cipher, NULL, key, NULL) == 1 &&
         EVP_DecryptInit_ex(dec, cipher, NULL, key, NULL) == 1;
    double t_seal = 0, t_open = 0;
    uint64_t bytes = 0, seq = 0;
    double start = now_s();
    while (ok && now_s() - start < o->seconds) {
        double t0 = now_s();
        for (size_t i = 0; ok && i < nrec; i++)
            ok = crypt_record(enc, 1, iv, seq + i, plain + i * o->record, o->record,
                              sealed + i * stride, sealed + i * stride + o->record);
        double t1 = now_s();
        for (size_t i = 0; ok && i < nrec; i++)
            ok = crypt_record(dec, 0, iv, seq + i, sealed + i * stride, o->record,
                              opened + i * o->record, sealed + i * stride + o->record);
        double t2 = now_s();
        t_seal += t1 - t0;
        t_open += t2 - t1;
        seq += nrec;
        bytes += nrec * o->record;
    }
    if (ok && memcmp(plain, opened, nrec * o->record) != 0)
        ok = 0;
    if (ok) {
        r->seal_gbs = (double)bytes / t_seal / 1e9;
        r->open_gbs = (double)bytes / t_open / 1e9;
        /* A frame's share of a record: its bytes, plus the record's
         * header, tag and content-type byte pro rata. */
        double frame = (double)(o->payload + FRAME_HDR);
        double share = frame * (double)(o->record + REC_HDR + TAG + 1) / (double)o->record;
        r->ns_per_hop = (t_seal + t_open) / (double)bytes * share * 1e9;
    }
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    free(plain);
    free(sealed);
    free(opened);
    return ok;
}

static void print(const opts *o, const char *label, const result *r)
{
    printf("%s cipher=%s record=%zu window_kib=%zu payload=%zu seal_gb_s=%.2f open_gb_s=%.2f "
           "ns_per_hop=%.0f\n",
           label, o->cipher, o->record, o->window / 1024, o->payload, r->seal_gbs, r->open_gbs,
           r->ns_per_hop);
    fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    opts o;
    parse(argc, argv, &o);
    const EVP_CIPHER *cipher = EVP_get_cipherbyname(o.cipher);
    if (!cipher || EVP_CIPHER_get_iv_length(cipher) != 12) {
        fprintf(stderr, "aead_cost: unknown or unsuitable cipher '%s'\n", o.cipher);
        return 2;
    }
    result all[MAX_RUNS];
    for (int i = 0; i < o.runs; i++) {
        if (!one_run(&o, cipher, &all[i])) {
            fprintf(stderr, "aead_cost: a cipher call or a tag check failed\n");
            return 1;
        }
        print(&o, "aead_cost", &all[i]);
    }
    if (o.runs > 1) {
        double s[MAX_RUNS], p[MAX_RUNS], h[MAX_RUNS];
        for (int i = 0; i < o.runs; i++)
            s[i] = all[i].seal_gbs, p[i] = all[i].open_gbs, h[i] = all[i].ns_per_hop;
        qsort(s, (size_t)o.runs, sizeof *s, cmp_double);
        qsort(p, (size_t)o.runs, sizeof *p, cmp_double);
        qsort(h, (size_t)o.runs, sizeof *h, cmp_double);
        int m = o.runs / 2;
        result med = {s[m], p[m], h[m]};
        print(&o, "median", &med);
    }
    return 0;
}
