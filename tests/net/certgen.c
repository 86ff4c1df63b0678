/* certgen.c - see certgen.h. */
#include "certgen.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       int is_ca, long serial)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"axon test", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    int rc = 0;
    if (is_ca) {
        rc |= add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        rc |= add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        rc |= add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        rc |= add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
        rc |= add_ext(x, iss, NID_ext_key_usage, "serverAuth,clientAuth");
        rc |= add_ext(x, iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    }
    if (rc || !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : -1;
}

int certgen_make(const char *dir, certgen_paths *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->ca, sizeof out->ca, "%s/ca.pem", dir);
    snprintf(out->cert, sizeof out->cert, "%s/node.pem", dir);
    snprintf(out->key, sizeof out->key, "%s/node.key", dir);
    snprintf(out->rogue_cert, sizeof out->rogue_cert, "%s/rogue.pem", dir);
    snprintf(out->rogue_key, sizeof out->rogue_key, "%s/rogue.key", dir);
    EVP_PKEY *cak = EVP_EC_gen("P-256");
    EVP_PKEY *nk = EVP_EC_gen("P-256");
    EVP_PKEY *rk = EVP_EC_gen("P-256");
    X509 *ca = cak ? make_cert(cak, "axon test CA", NULL, NULL, 1, 1) : NULL;
    X509 *node = ca && nk ? make_cert(nk, "axon node", ca, cak, 0, 2) : NULL;
    X509 *rogue = rk ? make_cert(rk, "axon node", NULL, NULL, 0, 3) : NULL;
    int rc = -1;
    if (ca && node && rogue && write_pem(out->ca, ca, NULL) == 0 &&
        write_pem(out->cert, node, NULL) == 0 && write_pem(out->key, NULL, nk) == 0 &&
        write_pem(out->rogue_cert, rogue, NULL) == 0 && write_pem(out->rogue_key, NULL, rk) == 0)
        rc = 0;
    else
        ERR_print_errors_fp(stderr);
    X509_free(ca);
    X509_free(node);
    X509_free(rogue);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(nk);
    EVP_PKEY_free(rk);
    return rc;
}
