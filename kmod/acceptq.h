/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KTLS_OFFLOAD_ACCEPTQ_H
#define _KTLS_OFFLOAD_ACCEPTQ_H

#include <linux/net.h>
#include <net/inet_connection_sock.h>
#include <net/request_sock.h>
#include <net/sock.h>

struct request_sock *ktls_acceptq_unlink(struct sock *lsk, bool ready, int max);
unsigned int ktls_acceptq_ready_first(struct sock *lsk, bool *raw_seen);
bool ktls_acceptq_add(struct sock *lsk, struct request_sock *req,
		      struct sock *child);
bool ktls_acceptq_is_ready(const struct request_sock *req);

struct ktls_tramp;
struct ktls_tramp *ktls_graft_get(struct proto *orig, const struct proto_ops *ops);
void ktls_graft_set(struct sock *sk, struct ktls_tramp *t);
void ktls_graft_uninit(void);

#endif /* _KTLS_OFFLOAD_ACCEPTQ_H */
