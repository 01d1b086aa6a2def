/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Kernel TLS key installation: turns the secrets of an established TLS
 * session into the kernel's crypto_info structures (one table drives every
 * cipher) and installs them on a TCP socket.  Functions return 0 or a
 * negative errno and never print.
 */
#ifndef KTLS_KTLS_KEYS_H
#define KTLS_KTLS_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/tls.h>

struct ktls_cipher {
	const char *name;	/* "AES-128-GCM", ... as GnuTLS spells it */
	uint16_t kernel_type;	/* TLS_CIPHER_* */
	uint8_t key_len;
	uint8_t salt_len;	/* implicit nonce part kept in crypto_info.salt */
	uint8_t iv_len;		/* crypto_info.iv */
	uint8_t info_len;	/* sizeof the kernel's crypto_info struct */
};

/* The ciphers kernel TLS carries; NULL when @kernel_type is not one. */
const struct ktls_cipher *ktls_cipher_by_type(uint16_t kernel_type);
const struct ktls_cipher *ktls_cipher_by_name(const char *name);

/* Large enough for every crypto_info the table describes. */
union ktls_crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes_gcm_128;
	struct tls12_crypto_info_aes_gcm_256 aes_gcm_256;
	struct tls12_crypto_info_aes_ccm_128 aes_ccm_128;
	struct tls12_crypto_info_chacha20_poly1305 chacha20_poly1305;
};

/*
 * Fills @ci for one direction.  @version is TLS_1_2_VERSION or
 * TLS_1_3_VERSION.  @iv is the write IV as a TLS library reports it:
 * 12 bytes for TLS 1.3 and for ChaCha20-Poly1305, the 4-byte implicit
 * salt for TLS 1.2 AES-GCM/CCM (whose explicit nonce is then the record
 * sequence, as GnuTLS and OpenSSL send it).  @seq is the next record's
 * sequence number.  Returns the number of bytes of @ci to install, or
 * -EINVAL / -EOPNOTSUPP.  The caller wipes @ci (ktls_crypto_info_wipe).
 */
int ktls_crypto_info_fill(union ktls_crypto_info *ci, uint16_t version,
			  const struct ktls_cipher *c,
			  const uint8_t *key, size_t key_len,
			  const uint8_t *iv, size_t iv_len, uint64_t seq);

void ktls_crypto_info_wipe(union ktls_crypto_info *ci);

/* The table itself, for walking every cipher. */
const struct ktls_cipher *ktls_cipher_at(unsigned int i);

/*
 * setsockopt(TCP_ULP, "tls"); -EEXIST when a ULP is already attached.  The
 * kernel attaches it only to an ESTABLISHED socket (ENOTCONN once the
 * peer's FIN is in), and until TLS_TX/TLS_RX are set the socket sends and
 * receives as plain TCP.
 */
int ktls_attach_ulp(int fd);

/* setsockopt(SOL_TLS, @dir) with @dir TLS_TX or TLS_RX. */
int ktls_install(int fd, int dir, const union ktls_crypto_info *ci, size_t len);

#endif
