#ifndef COHORTSYNC_CCRYPTO_SHIM_H
#define COHORTSYNC_CCRYPTO_SHIM_H

#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

#endif
