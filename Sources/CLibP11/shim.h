/*
 * PKCS#11 tokens through OpenSSL: libp11 (to find the token and the object and to log in, so a
 * failure is named precisely, and to make key pairs inside a token) and libp11's OpenSSL engine
 * (which turns a token key into an EVP_PKEY every EVP call then uses).
 *
 * OpenSSL 3 deprecates the ENGINE API, and libp11 marks PKCS11_generate_key deprecated; both
 * are what Debian 12 ships for PKCS#11 (pkcs11-provider exists only from Debian 13), so the
 * deprecation attributes are turned off here, for this module only.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <libp11.h>

/* Slot i of an array libp11 returned. */
static inline PKCS11_SLOT *cpk_p11_slot(PKCS11_SLOT *slots, unsigned int index) { return &slots[index]; }
static inline PKCS11_KEY *cpk_p11_key(PKCS11_KEY *keys, unsigned int index) { return &keys[index]; }

/* The last error's library and reason (ERR_GET_LIB/ERR_GET_REASON are macros in OpenSSL 3). */
static inline int cpk_p11_error_lib(unsigned long code) { return ERR_GET_LIB(code); }
static inline int cpk_p11_error_reason(unsigned long code) { return ERR_GET_REASON(code); }

/* A key pair made inside the token (libp11 marks this deprecated: libp11 0.5 replaces it with
 * PKCS11_keygen, which Debian 12's 0.4.12 does not have). */
static inline int cpk_p11_generate_rsa(PKCS11_TOKEN *token, unsigned int bits, char *label,
                                       unsigned char *id, size_t id_length) {
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
    return PKCS11_generate_key(token, 0, bits, label, id, id_length);
#pragma clang diagnostic pop
}

