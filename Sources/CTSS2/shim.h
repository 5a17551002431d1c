/*
 * TPM 2.0 through tpm2-tss: ESAPI (tss2-esys) for the commands and their sessions, the TCTI
 * loader (tss2-tctildr) to reach a TPM from a configuration string such as
 * "swtpm:path=/x/sock" or "device:/dev/tpmrm0", the marshalling library (tss2-mu) to turn
 * the structures ESAPI returns into the bytes the documents carry, and tss2-rc to name a
 * return code.
 *
 * The templates are filled here, in C, because TPM2B/TPMT structures are nested unions of
 * fixed arrays that Swift imports as tuples: field names make each template readable against
 * the specifications it follows.
 */
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

/* What every template shares: RSA-2048, SHA-256 names, the default exponent (65537), no unique. */
static inline void cpk_tss2_rsa2048(TPM2B_PUBLIC *template, TPMA_OBJECT attributes) {
    memset(template, 0, sizeof *template);
    template->publicArea.type = TPM2_ALG_RSA;
    template->publicArea.nameAlg = TPM2_ALG_SHA256;
    template->publicArea.objectAttributes = attributes;
    template->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    template->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    template->publicArea.parameters.rsaDetail.keyBits = 2048;
    template->publicArea.parameters.rsaDetail.exponent = 0;
}

/* The storage root key: TCG "TPM 2.0 Provisioning Guidance" RSA-2048 SRK template (a
 * restricted decryption key with AES-128-CFB, noDA, no auth), so every program that follows
 * the guidance derives the same key from the owner seed. */
static inline void cpk_tss2_srk_template(TPM2B_PUBLIC *template) {
    cpk_tss2_rsa2048(template, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                   TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
                                   TPMA_OBJECT_DECRYPT);
    template->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    template->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    template->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    template->publicArea.unique.rsa.size = 256;
}

/* The device key: made in the TPM, never to leave it, decryption only (no sign: it cannot be
 * a signature oracle), scheme NULL so that TPM2_RSA_Decrypt can do raw RSA (the PKCS#1 v1.5
 * check stays ours, constant time) as well as OAEP. */
static inline void cpk_tss2_device_key_template(TPM2B_PUBLIC *template) {
    cpk_tss2_rsa2048(template, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                   TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_DECRYPT);
}

/* The attestation key: a restricted signing key with RSASSA-SHA256 (tpm2_checkquote 5.4
 * cannot check swtpm's RSAPSS quotes), signs only what the TPM itself made. */
static inline void cpk_tss2_ak_template(TPM2B_PUBLIC *template) {
    cpk_tss2_rsa2048(template, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                   TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT);
    template->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    template->publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
}

/* The endorsement key: TCG EK Credential Profile 2.0, template L-1 (RSA-2048), the key the
 * manufacturer's EK certificate certifies. Its authPolicy is PolicySecret(TPM_RH_ENDORSEMENT). */
static inline void cpk_tss2_ek_template(TPM2B_PUBLIC *template) {
    static const uint8_t policy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
                                       0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
                                       0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};
    cpk_tss2_rsa2048(template, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                   TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
    template->publicArea.authPolicy.size = sizeof policy;
    memcpy(template->publicArea.authPolicy.buffer, policy, sizeof policy);
    template->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    template->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
    template->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    template->publicArea.unique.rsa.size = 256;
}

/* The decryption scheme of TPM2_RSA_Decrypt: NULL (raw RSA) or OAEP with SHA-256. */
static inline void cpk_tss2_decrypt_scheme(TPMT_RSA_DECRYPT *scheme, int oaep) {
    memset(scheme, 0, sizeof *scheme);
    scheme->scheme = oaep ? TPM2_ALG_OAEP : TPM2_ALG_NULL;
    if (oaep) scheme->details.oaep.hashAlg = TPM2_ALG_SHA256;
}

/* A signature scheme of NULL: the AK's own (RSASSA-SHA256). */
static inline void cpk_tss2_null_signature_scheme(TPMT_SIG_SCHEME *scheme) {
    memset(scheme, 0, sizeof *scheme);
    scheme->scheme = TPM2_ALG_NULL;
}

/* A symmetric definition of NULL, for a policy session without parameter encryption. */
static inline void cpk_tss2_null_symmetric(TPMT_SYM_DEF *symmetric) {
    memset(symmetric, 0, sizeof *symmetric);
    symmetric->algorithm = TPM2_ALG_NULL;
}

/* One PCR bank's selection; `bitmap` has `size` (at most 4) bytes. */
static inline int cpk_tss2_pcr_selection(TPML_PCR_SELECTION *selection, TPM2_ALG_ID hash, const uint8_t *bitmap,
                                         size_t size) {
    memset(selection, 0, sizeof *selection);
    if (size > sizeof selection->pcrSelections[0].pcrSelect) return 0;
    selection->count = 1;
    selection->pcrSelections[0].hash = hash;
    selection->pcrSelections[0].sizeofSelect = (uint8_t)(size < 3 ? 3 : size);
    memcpy(selection->pcrSelections[0].pcrSelect, bitmap, size);
    return 1;
}

/* The bytes of a sized buffer, and setting them: a TPM2B is a size then that many bytes. */
static inline int cpk_tss2_set_data(TPM2B_DATA *data, const uint8_t *bytes, size_t size) {
    if (size > sizeof data->buffer) return 0;
    data->size = (UINT16)size;
    memcpy(data->buffer, bytes, size);
    return 1;
}
static inline int cpk_tss2_set_rsa(TPM2B_PUBLIC_KEY_RSA *data, const uint8_t *bytes, size_t size) {
    if (size > sizeof data->buffer) return 0;
    data->size = (UINT16)size;
    memcpy(data->buffer, bytes, size);
    return 1;
}
static inline int cpk_tss2_set_id_object(TPM2B_ID_OBJECT *data, const uint8_t *bytes, size_t size) {
    if (size > sizeof data->credential) return 0;
    data->size = (UINT16)size;
    memcpy(data->credential, bytes, size);
    return 1;
}
static inline int cpk_tss2_set_encrypted_secret(TPM2B_ENCRYPTED_SECRET *data, const uint8_t *bytes, size_t size) {
    if (size > sizeof data->secret) return 0;
    data->size = (UINT16)size;
    memcpy(data->secret, bytes, size);
    return 1;
}
static inline const uint8_t *cpk_tss2_rsa_bytes(const TPM2B_PUBLIC_KEY_RSA *data) { return data->buffer; }
static inline const uint8_t *cpk_tss2_digest_bytes(const TPM2B_DIGEST *data) { return data->buffer; }
static inline const uint8_t *cpk_tss2_attest_bytes(const TPM2B_ATTEST *data) { return data->attestationData; }
static inline const uint8_t *cpk_tss2_nv_bytes(const TPM2B_MAX_NV_BUFFER *data) { return data->buffer; }
static inline TPMT_PUBLIC *cpk_tss2_public_area(TPM2B_PUBLIC *data) { return &data->publicArea; }

/* Wipes a structure that held a secret (a decrypted key, a credential) before it is freed. */
static inline void cpk_tss2_wipe(void *pointer, size_t size) {
    volatile uint8_t *bytes = (volatile uint8_t *)pointer;
    while (size--) *bytes++ = 0;
}
