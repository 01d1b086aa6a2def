// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS offload engine: tlsdev_ops and the RX decryption.
 *
 * TX needs no state of ours: the transmit path encrypts each segment with the
 * kernel's own software fallback (tls_encrypt_skb), which finds the record by
 * TCP sequence number.
 *
 * RX keeps, per offloaded socket, where in the TLS stream the next in-order
 * TCP byte falls.  A segment that continues the stream is decrypted as a NIC
 * does it: AES-CTR from the right counter block in the middle of a record,
 * GHASH over the ciphertext, the tag compared when the record's last byte
 * goes by.  The segment is handed up decrypted (skb->decrypted) only if all
 * of its payload could be decrypted and no tag in it failed; otherwise it
 * goes up untouched and the kernel decrypts it (re-encrypting the parts of a
 * record we did decrypt), which is also how a bad tag reaches the socket as
 * EBADMSG.  A gap in the sequence (drop, reordering) loses the stream; the
 * core then finds the next record boundary itself and tells us with
 * tls_dev_resync (TLS_OFFLOAD_SYNC_TYPE_CORE_NEXT_HINT, as nfp does).
 */
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/scatterlist.h>
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <net/checksum.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/tls.h>

#include "nicsim.h"
#include "compat.h"

#define NICSIM_HDR_LEN		(TLS_HEADER_SIZE + 8)	/* header + explicit IV */
#define NICSIM_TAG_LEN		16
#define NICSIM_MAX_REC_LEN	(TLS_MAX_PAYLOAD_SIZE + 2048)

struct nicsim_rx {
	struct list_head list;		/* in nicsim_priv.rx_ctxs */
	/* the flow, seen from the receiving socket; IPv4 as v4-mapped */
	struct in6_addr laddr, raddr;
	__be16 lport, rport;

	spinlock_t lock;		/* protects everything below */
	struct crypto_sync_skcipher *ctr;
	struct nicsim_ghash *ghash;
	u8 salt[4];
	bool in_sync;
	u32 next_seq;			/* TCP sequence of the next byte */
	u32 rec_off;			/* bytes of the current record seen */
	u32 rec_len;			/* its length with header, once known */
	u64 rec_sn;
	bool resync_pending;
	u32 resync_seq;
	u64 resync_sn;
	u8 hdr[NICSIM_HDR_LEN];
	u8 tag[NICSIM_TAG_LEN];
	u8 ekj0[16];			/* E(K, J0), xored into the tag */
	u8 block[16];			/* scratch: scatterlists need no stack */
};

static struct nicsim_rx **nicsim_rx_slot(struct tls_context *ctx)
{
	BUILD_BUG_ON(sizeof(struct nicsim_rx *) > TLS_DRIVER_STATE_SIZE_RX);
	return __tls_driver_ctx(ctx, TLS_OFFLOAD_CTX_DIR_RX);
}

static int nicsim_ctr_iv(struct nicsim_rx *rx, u8 *buf, unsigned int len,
			 u8 *iv)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(req, rx->ctr);
	struct scatterlist sg;
	int err;

	sg_init_one(&sg, buf, len);
	skcipher_request_set_sync_tfm(req, rx->ctr);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, &sg, &sg, len, iv);
	err = crypto_skcipher_encrypt(req);
	skcipher_request_zero(req);
	return err;
}

/* xor buf with the keystream of the current record from GCM counter ctr */
static int nicsim_ctr(struct nicsim_rx *rx, u8 *buf, unsigned int len, u32 ctr)
{
	u8 iv[16];

	memcpy(iv, rx->salt, 4);
	memcpy(iv + 4, rx->hdr + TLS_HEADER_SIZE, 8);
	put_unaligned_be32(ctr, iv + 12);
	return nicsim_ctr_iv(rx, buf, len, iv);
}

/* decrypt len bytes found at offset pos of the current record's ciphertext */
static int nicsim_ctr_at(struct nicsim_rx *rx, u8 *buf, u32 pos, u32 len)
{
	u32 pad = pos % 16;
	int err;

	if (pad) {
		u32 k = min_t(u32, len, 16 - pad);

		memset(rx->block, 0, sizeof(rx->block));
		memcpy(rx->block + pad, buf, k);
		err = nicsim_ctr(rx, rx->block, 16, 2 + pos / 16);
		if (err)
			return err;
		memcpy(buf, rx->block + pad, k);
		buf += k;
		pos += k;
		len -= k;
	}
	return len ? nicsim_ctr(rx, buf, len, 2 + pos / 16) : 0;
}

static const u8 nicsim_zeros[16];

/* The header and explicit IV are in: set up GHASH and E(K, J0). */
static int nicsim_rec_begin(struct nicsim_rx *rx)
{
	u16 len = get_unaligned_be16(rx->hdr + 3);
	u8 aad[TLS_AAD_SPACE_SIZE];
	int err;

	if (rx->hdr[1] != 3 || rx->hdr[2] != 3 ||
	    len < 8 + NICSIM_TAG_LEN || len > NICSIM_MAX_REC_LEN)
		return -EBADMSG;
	rx->rec_len = TLS_HEADER_SIZE + len;

	put_unaligned_be64(rx->rec_sn, aad);
	aad[8] = rx->hdr[0];
	aad[9] = 3;
	aad[10] = 3;
	put_unaligned_be16(len - 8 - NICSIM_TAG_LEN, aad + 11);
	err = nicsim_ghash_init(rx->ghash) ?:
	      nicsim_ghash_update(rx->ghash, aad, sizeof(aad)) ?:
	      nicsim_ghash_update(rx->ghash, nicsim_zeros, 16 - sizeof(aad));
	if (err)
		return err;
	memset(rx->ekj0, 0, sizeof(rx->ekj0));
	return nicsim_ctr(rx, rx->ekj0, sizeof(rx->ekj0), 1);
}

/* The tag is in: does it authenticate the record? */
static bool nicsim_rec_end(struct nicsim_rx *rx)
{
	u32 clen = rx->rec_len - NICSIM_HDR_LEN - NICSIM_TAG_LEN;
	u8 lens[16], s[16];
	int i;

	put_unaligned_be64(TLS_AAD_SPACE_SIZE * 8ULL, lens);
	put_unaligned_be64(clen * 8ULL, lens + 8);
	if ((clen % 16 &&
	     nicsim_ghash_update(rx->ghash, nicsim_zeros, 16 - clen % 16)) ||
	    nicsim_ghash_update(rx->ghash, lens, sizeof(lens)) ||
	    nicsim_ghash_final(rx->ghash, s))
		return false;
	for (i = 0; i < 16; i++)
		s[i] ^= rx->ekj0[i];
	return !crypto_memneq(s, rx->tag, sizeof(s));
}

/*
 * Runs the stream over buf[from..len): decrypts ciphertext in place, leaves
 * headers and tags as they are.  False if the segment cannot go up
 * decrypted: a tag failed in it, or the stream was lost.
 */
static bool nicsim_rx_stream(struct nicsim_priv *priv, struct nicsim_rx *rx,
			     u8 *buf, u32 from, u32 len)
{
	bool ok = true;
	u32 i = from;

	while (i < len) {
		u32 cend, k;

		if (rx->rec_off < NICSIM_HDR_LEN) {
			k = min(NICSIM_HDR_LEN - rx->rec_off, len - i);
			memcpy(rx->hdr + rx->rec_off, buf + i, k);
			rx->rec_off += k;
			i += k;
			if (rx->rec_off == NICSIM_HDR_LEN && nicsim_rec_begin(rx))
				goto lost;
			continue;
		}
		cend = rx->rec_len - NICSIM_TAG_LEN;
		if (rx->rec_off < cend) {
			k = min(cend - rx->rec_off, len - i);
			if (nicsim_ghash_update(rx->ghash, buf + i, k) ||
			    nicsim_ctr_at(rx, buf + i,
					  rx->rec_off - NICSIM_HDR_LEN, k))
				goto lost;
			rx->rec_off += k;
			i += k;
			continue;
		}
		k = min(rx->rec_len - rx->rec_off, len - i);
		memcpy(rx->tag + rx->rec_off - cend, buf + i, k);
		rx->rec_off += k;
		i += k;
		if (rx->rec_off == rx->rec_len) {
			if (nicsim_rec_end(rx)) {
				nicsim_count(priv, NICSIM_RX_RECORDS_DECRYPTED);
			} else {
				nicsim_count(priv, NICSIM_RX_TAG_FAILURES);
				ok = false;
			}
			rx->rec_off = 0;
			rx->rec_sn++;
		}
	}
	return ok;

lost:
	rx->in_sync = false;
	nicsim_count(priv, NICSIM_RX_OUT_OF_SYNC);
	return false;
}

/* One TCP segment of an offloaded flow: payload at poff, len bytes. */
static void nicsim_rx_segment(struct nicsim_priv *priv, struct nicsim_rx *rx,
			      struct sk_buff *skb, u32 poff, u32 len, u32 seq)
{
	u32 end = seq + len, from;
	u64 t0 = ktime_get_ns();
	bool ok = false;
	u8 *buf;

	buf = kmalloc(len, GFP_ATOMIC);
	if (!buf || skb_copy_bits(skb, poff, buf, len)) {
		/* a NIC out of buffers passes the packet up as it came */
		spin_lock(&rx->lock);
		if (rx->in_sync && after(end, rx->next_seq)) {
			rx->in_sync = false;
			nicsim_count(priv, NICSIM_RX_OUT_OF_SYNC);
		}
		spin_unlock(&rx->lock);
		goto out;
	}

	spin_lock(&rx->lock);
	if (rx->resync_pending) {
		if (rx->in_sync || after(seq, rx->resync_seq)) {
			rx->resync_pending = false;	/* not needed, or missed */
		} else if (before(rx->resync_seq, end)) {
			rx->resync_pending = false;
			rx->in_sync = true;
			rx->next_seq = rx->resync_seq;
			rx->rec_off = 0;
			rx->rec_sn = rx->resync_sn;
		}
	}
	if (!rx->in_sync)
		goto unlock;
	if (seq == rx->next_seq) {
		from = 0;
	} else if (before(seq, rx->next_seq)) {
		if (!after(end, rx->next_seq))
			goto unlock;	/* a retransmission of what we saw */
		from = rx->next_seq - seq;
	} else {
		rx->in_sync = false;	/* a gap: the stream is lost */
		nicsim_count(priv, NICSIM_RX_OUT_OF_SYNC);
		goto unlock;
	}
	ok = nicsim_rx_stream(priv, rx, buf, from, len) && from == 0;
	if (rx->in_sync)
		rx->next_seq = end;
unlock:
	spin_unlock(&rx->lock);

	/* the packet must be ours alone to be written: a clone shares its
	 * data with the sender's retransmission queue */
	if (ok && skb_linearize_cow(skb))
		ok = false;
	if (ok) {
		memcpy(skb->data + poff, buf, len);
		/* the checksum was of the ciphertext, and checked */
		if (skb->ip_summed != CHECKSUM_PARTIAL)
			skb->ip_summed = CHECKSUM_UNNECESSARY;
		nicsim_skb_set_decrypted(skb, true);
		nicsim_count(priv, NICSIM_RX_SEGS_DECRYPTED);
		goto out;
	}
out:
	if (!ok)
		nicsim_count(priv, NICSIM_RX_SEGS_ENCRYPTED);
	kfree_sensitive(buf);
	atomic64_add(ktime_get_ns() - t0, &priv->counters[NICSIM_RX_DECRYPT_NS]);
}

/*
 * A NIC checks the TCP checksum before it decrypts: a segment whose checksum
 * is wrong goes up as it came (the stack drops it).  CHECKSUM_PARTIAL is a
 * segment of this machine whose checksum nobody computed; the stack trusts
 * those, and so do we.
 */
static bool nicsim_tcp_csum_ok(struct sk_buff *skb, u32 thoff, u32 l3len,
			       const struct in6_addr *saddr,
			       const struct in6_addr *daddr)
{
	u32 len = l3len - thoff;
	__wsum csum;

	if (skb->ip_summed == CHECKSUM_PARTIAL ||
	    skb->ip_summed == CHECKSUM_UNNECESSARY)
		return true;
	csum = skb_checksum(skb, thoff, len, 0);
	if (ipv6_addr_v4mapped(saddr))
		return !csum_tcpudp_magic(saddr->s6_addr32[3],
					  daddr->s6_addr32[3], len,
					  IPPROTO_TCP, csum);
	return !csum_ipv6_magic(saddr, daddr, len, IPPROTO_TCP, csum);
}

/* skb->data is at the network header, skb->protocol set */
void nicsim_rx_offload(struct net_device *dev, struct sk_buff *skb)
{
	struct nicsim_priv *priv = netdev_priv(dev);
	struct in6_addr saddr, daddr;
	struct tcphdr _th, *th;
	struct nicsim_rx *rx;
	u32 thoff, l3len, poff;

	if (list_empty(&priv->rx_ctxs))
		return;

	if (skb->protocol == htons(ETH_P_IP)) {
		struct iphdr _iph, *iph;

		iph = skb_header_pointer(skb, 0, sizeof(_iph), &_iph);
		if (!iph || iph->version != 4 || iph->ihl < 5 ||
		    iph->protocol != IPPROTO_TCP || ip_is_fragment(iph))
			return;
		ipv6_addr_set_v4mapped(iph->saddr, &saddr);
		ipv6_addr_set_v4mapped(iph->daddr, &daddr);
		thoff = iph->ihl * 4;
		l3len = ntohs(iph->tot_len);
	} else if (skb->protocol == htons(ETH_P_IPV6)) {
		struct ipv6hdr _ip6h, *ip6h;

		ip6h = skb_header_pointer(skb, 0, sizeof(_ip6h), &_ip6h);
		if (!ip6h || ip6h->version != 6 || ip6h->nexthdr != IPPROTO_TCP)
			return;
		saddr = ip6h->saddr;
		daddr = ip6h->daddr;
		thoff = sizeof(*ip6h);
		l3len = thoff + ntohs(ip6h->payload_len);
	} else {
		return;
	}
	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th || th->doff < 5)
		return;
	poff = thoff + th->doff * 4;
	l3len = min(l3len, skb->len);
	if (l3len <= poff)
		return;

	list_for_each_entry_rcu(rx, &priv->rx_ctxs, list) {
		if (rx->lport == th->dest && rx->rport == th->source &&
		    ipv6_addr_equal(&rx->laddr, &daddr) &&
		    ipv6_addr_equal(&rx->raddr, &saddr)) {
			if (!nicsim_tcp_csum_ok(skb, thoff, l3len, &saddr,
						&daddr)) {
				nicsim_count(priv, NICSIM_RX_BAD_CSUM);
				return;
			}
			nicsim_rx_segment(priv, rx, skb, poff, l3len - poff,
					  ntohl(th->seq));
			return;
		}
	}
}

static void nicsim_rx_free(struct nicsim_rx *rx)
{
	if (!rx)
		return;
	if (!IS_ERR_OR_NULL(rx->ghash))
		nicsim_ghash_free(rx->ghash);
	if (!IS_ERR_OR_NULL(rx->ctr))
		crypto_free_sync_skcipher(rx->ctr);
	kfree_sensitive(rx);
}

static int nicsim_rx_add(struct nicsim_priv *priv, struct sock *sk,
			 struct tls_crypto_info *info, u32 tcp_sn)
{
	const u8 *key, *salt, *rec_seq;
	struct nicsim_rx *rx;
	unsigned int keylen;
	u8 iv[16] = {};
	int err;

	switch (info->cipher_type) {
	case TLS_CIPHER_AES_GCM_128: {
		struct tls12_crypto_info_aes_gcm_128 *c = (void *)info;

		key = c->key;
		keylen = sizeof(c->key);
		salt = c->salt;
		rec_seq = c->rec_seq;
		break;
	}
	case TLS_CIPHER_AES_GCM_256: {
		struct tls12_crypto_info_aes_gcm_256 *c = (void *)info;

		key = c->key;
		keylen = sizeof(c->key);
		salt = c->salt;
		rec_seq = c->rec_seq;
		break;
	}
	default:
		return -EOPNOTSUPP;
	}
	if (info->version != TLS_1_2_VERSION)
		return -EOPNOTSUPP;

	/* charged to the memory cgroup of whoever installs the receive key
	 * (for a handoff, the agent); the two cipher objects are not */
	rx = kzalloc(sizeof(*rx), GFP_KERNEL_ACCOUNT);
	if (!rx)
		return -ENOMEM;
	spin_lock_init(&rx->lock);
	rx->ctr = crypto_alloc_sync_skcipher("ctr(aes)", 0, 0);
	rx->ghash = nicsim_ghash_alloc();
	err = -ENOMEM;
	if (IS_ERR(rx->ctr) || IS_ERR(rx->ghash))
		goto err;
	err = crypto_sync_skcipher_setkey(rx->ctr, key, keylen);
	if (err)
		goto err;
	/* the GHASH key H = E(K, 0^128) */
	memset(rx->block, 0, sizeof(rx->block));
	err = nicsim_ctr_iv(rx, rx->block, sizeof(rx->block), iv) ?:
	      nicsim_ghash_setkey(rx->ghash, rx->block);
	memzero_explicit(rx->block, sizeof(rx->block));
	if (err)
		goto err;
	memcpy(rx->salt, salt, sizeof(rx->salt));
	rx->rec_sn = get_unaligned_be64(rec_seq);
	rx->next_seq = tcp_sn;
	rx->in_sync = true;

	if (sk->sk_family == AF_INET6) {
		rx->laddr = sk->sk_v6_rcv_saddr;
		rx->raddr = sk->sk_v6_daddr;
	} else {
		ipv6_addr_set_v4mapped(sk->sk_rcv_saddr, &rx->laddr);
		ipv6_addr_set_v4mapped(sk->sk_daddr, &rx->raddr);
	}
	rx->lport = htons(sk->sk_num);
	rx->rport = sk->sk_dport;

	tls_offload_rx_resync_set_type(sk, TLS_OFFLOAD_SYNC_TYPE_CORE_NEXT_HINT);
	*nicsim_rx_slot(tls_get_ctx(sk)) = rx;
	spin_lock_bh(&priv->lock);
	list_add_tail_rcu(&rx->list, &priv->rx_ctxs);
	spin_unlock_bh(&priv->lock);
	return 0;

err:
	if (IS_ERR(rx->ctr))
		err = PTR_ERR(rx->ctr);
	else if (IS_ERR(rx->ghash))
		err = PTR_ERR(rx->ghash);
	nicsim_rx_free(rx);
	return err;
}

static int nicsim_tls_dev_add(struct net_device *netdev, struct sock *sk,
			      enum tls_offload_ctx_dir direction,
			      struct tls_crypto_info *crypto_info,
			      u32 start_offload_tcp_sn)
{
	struct nicsim_priv *priv = netdev_priv(netdev);
	int err;

	if (READ_ONCE(priv->refuse_add)) {
		nicsim_count(priv, NICSIM_TLS_DEV_ADD_REFUSED);
		return -EBUSY;
	}
	if (direction == TLS_OFFLOAD_CTX_DIR_TX) {
		nicsim_count(priv, NICSIM_TLS_DEV_ADD_TX);
		nicsim_count(priv, NICSIM_TX_CTX_ACTIVE);
		return 0;
	}
	err = nicsim_rx_add(priv, sk, crypto_info, start_offload_tcp_sn);
	if (err)
		return err;
	nicsim_count(priv, NICSIM_TLS_DEV_ADD_RX);
	nicsim_count(priv, NICSIM_RX_CTX_ACTIVE);
	return 0;
}

/* Sleeps: called from socket close, the TX destruct work and
 * tls_device_down, all in process context. */
static void nicsim_tls_dev_del(struct net_device *netdev,
			       struct tls_context *ctx,
			       enum tls_offload_ctx_dir direction)
{
	struct nicsim_priv *priv = netdev_priv(netdev);
	struct nicsim_rx *rx;

	if (direction == TLS_OFFLOAD_CTX_DIR_TX) {
		nicsim_count(priv, NICSIM_TLS_DEV_DEL_TX);
		atomic64_dec(&priv->counters[NICSIM_TX_CTX_ACTIVE]);
		return;
	}
	rx = READ_ONCE(*nicsim_rx_slot(ctx));
	WRITE_ONCE(*nicsim_rx_slot(ctx), NULL);
	if (!rx)
		return;
	spin_lock_bh(&priv->lock);
	list_del_rcu(&rx->list);
	spin_unlock_bh(&priv->lock);
	synchronize_net();
	nicsim_rx_free(rx);
	nicsim_count(priv, NICSIM_TLS_DEV_DEL_RX);
	atomic64_dec(&priv->counters[NICSIM_RX_CTX_ACTIVE]);
}

/* The core found a record boundary: the record at TCP seq has number
 * rcd_sn.  Runs under rcu_read_lock, in process or softirq context. */
static int nicsim_tls_dev_resync(struct net_device *netdev, struct sock *sk,
				 u32 seq, u8 *rcd_sn,
				 enum tls_offload_ctx_dir direction)
{
	struct nicsim_priv *priv = netdev_priv(netdev);
	struct nicsim_rx *rx;

	if (direction != TLS_OFFLOAD_CTX_DIR_RX)
		return 0;
	rx = READ_ONCE(*nicsim_rx_slot(tls_get_ctx(sk)));
	if (!rx)
		return 0;
	spin_lock_bh(&rx->lock);
	rx->resync_pending = true;
	rx->resync_seq = seq;
	rx->resync_sn = get_unaligned_be64(rcd_sn);
	spin_unlock_bh(&rx->lock);
	nicsim_count(priv, NICSIM_RX_RESYNCS);
	return 0;
}

const struct tlsdev_ops nicsim_tlsdev_ops = {
	.tls_dev_add	= nicsim_tls_dev_add,
	.tls_dev_del	= nicsim_tls_dev_del,
	.tls_dev_resync	= nicsim_tls_dev_resync,
};
