/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_REKEY_H
#define _KTLS_OFFLOAD_REKEY_H

#include <linux/types.h>

struct sock;
struct proto_ops;

#define KTLS_SECRET_MAX	48	/* SHA-384 */

/* What the agent hands over with a TLS 1.3 success (DONE). */
struct ktls_secrets {
	u8 tx[KTLS_SECRET_MAX];
	u8 rx[KTLS_SECRET_MAX];
	u8 len;			/* 0: none given */
	u64 tx_limit;		/* bytes before our own KeyUpdate; 0: the cipher's */
};

bool ktls_rekey_supported(void);
int ktls_rekey_install(struct sock *sk, struct ktls_secrets *s);
bool ktls_rekey_graft_arm(struct sock *sk, const struct proto_ops *ops);
void ktls_rekey_uninit(void);

#endif /* _KTLS_OFFLOAD_REKEY_H */
