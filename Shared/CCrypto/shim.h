#ifndef COHORTSYNC_CCRYPTO_SHIM_H
#define COHORTSYNC_CCRYPTO_SHIM_H

/* OpenSSL 3 marks the low-level SHA256_* functions deprecated in favour of EVP. For hashing millions
   of short identifiers they are the fast path: OpenSSL 3's one-shot SHA256() goes through EVP_Q_digest,
   which fetches the algorithm on every call and costs several times the hash itself. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stddef.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

/* SHA-256 of len bytes at data into the 32 bytes at out. */
static inline void cohortsync_sha256(const void *data, size_t len, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, len);
    SHA256_Final(out, &context);
}

#endif
