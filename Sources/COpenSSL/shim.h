#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/ssl.h>

/* Function-like macros of libssl that Swift cannot import, as functions. */
static inline int cpk_SSL_CTX_set_min_proto_version(SSL_CTX *context, int version) {
    return (int)SSL_CTX_set_min_proto_version(context, version);
}
static inline int cpk_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
static inline void cpk_SSL_CTX_ignore_unexpected_eof(SSL_CTX *context) {
    SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
}

#include <openssl/hmac.h>

/* RSA PKCS#1 v1.5 implicit rejection (docs/keys.md §1): OpenSSL 3.0 has no setting for it, so
 * the padding check of a raw RSA decryption is made here, in constant time. No branch and no
 * memory index depends on the decrypted block; the caller never learns which output it got. */

/* All ones when a is zero, else zero. */
static inline unsigned int cpk_ct_is_zero(unsigned int a) {
    return 0u - ((~a & (a - 1u)) >> (sizeof(unsigned int) * 8u - 1u));
}

/* `em` is a raw RSA decryption of k bytes. When it is an EME-PKCS1-v1_5 block (00 02, at least
 * eight non-zero padding bytes, 00) whose message is exactly `length` bytes, that message is
 * written to `out`; otherwise `synthetic` is. The caller makes sure k >= length + 11. */
static inline void cpk_pkcs1v15_select(const unsigned char *em, size_t k, const unsigned char *synthetic, size_t length,
                                       unsigned char *out) {
    unsigned int good = cpk_ct_is_zero(em[0]) & cpk_ct_is_zero((unsigned int)em[1] ^ 2u);
    unsigned int found = 0u;      /* all ones from the first zero byte after the 00 02 on */
    unsigned int separator = 0u;  /* the index of that zero byte */
    for (size_t i = 2; i < k; i++) {
        unsigned int is_zero = cpk_ct_is_zero(em[i]);
        separator |= ~found & is_zero & (unsigned int)i;
        found |= is_zero;
    }
    /* The message is the last `length` bytes exactly when the separator is just before them;
     * as k >= length + 11, that also leaves at least eight bytes of padding. */
    good &= found & cpk_ct_is_zero(separator ^ (unsigned int)(k - length - 1u));
    for (size_t i = 0; i < length; i++) {
        out[i] = (unsigned char)((good & em[k - length + i]) | (~good & synthetic[i]));
    }
}
