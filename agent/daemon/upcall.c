// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-agent answers the kernel's "handshake" generic netlink family, as
 * tlshd does: a kernel consumer (the NFS client and server, NVMe/TCP host
 * and target) queues a request on one of its sockets and the family
 * multicasts READY on the "tlshd" group; a worker ACCEPTs it (the kernel
 * puts the socket into the agent's descriptor table and says the role,
 * the authentication mode, the key serials and the peer name), runs the
 * handshake in its event loop like any other job, TLS 1.3 only and
 * without session tickets, installs kernel TLS and sends DONE with the
 * status and the remote peer's identity, then closes its descriptor.
 *
 * Unlike tlshd: no process per handshake; the profile (CAs, certificate,
 * priority) is chosen per consumer by port and per peer by name
 * (upcall, upcall_ports, upcall_peers in ktls-agent.conf(5)); a peer's
 * name is checked against the name the kernel gave, never against
 * reverse DNS; handshakes in flight are bounded by the worker loop's
 * timeouts; one log line per handshake names the consumer, the peer and
 * the outcome.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keyutils.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netlink/genl/genl.h>

#include "handshake_nl.h"

#include "genl.h"
#include "log.h"
#include "tls.h"
#include "upcall.h"
#include "worker.h"
#include "worker_int.h"

/* (READY carries the handler class; nothing else is read from events) */
static struct nla_policy ready_policy[KTLS_GENL_MAX_ATTR + 1] = {
	[HANDSHAKE_A_ACCEPT_HANDLER_CLASS] = { .type = NLA_U32 },
};

static void on_ready(int cmd, struct nlattr **attrs, void *arg)
{
	struct upcall_ns *ns = arg;

	(void)attrs;
	if (cmd == HANDSHAKE_CMD_READY)
		ns->ready = true;
}

int upcall_probe(void)
{
	struct ktls_genl g;
	int ret = ktls_genl_open_family(&g, HANDSHAKE_FAMILY_NAME, HANDSHAKE_FAMILY_VERSION);

	if (!ret)
		ktls_genl_close(&g);
	return ret;
}

/* ---- network namespaces ---- */

/* One worker's sockets in the namespace the calling thread is in. */
static int ns_open(struct upcall_ns *ns, const char *name)
{
	int ret;

	ns->kind = EV_UPCALL;
	ns->name = name;
	ns->ready = true;	/* requests queued before the agent sent READY to nobody */
	ret = ktls_genl_open_family(&ns->cmd, HANDSHAKE_FAMILY_NAME, HANDSHAKE_FAMILY_VERSION);
	if (!ret)
		ret = ktls_genl_open_events(&ns->mcast, HANDSHAKE_FAMILY_NAME,
					    HANDSHAKE_FAMILY_VERSION, HANDSHAKE_MCGRP_TLSHD,
					    on_ready, ns, ready_policy);
	if (ret)
		return ret;
	nl_socket_set_nonblocking(ns->cmd.sock);
	/* a READY is a few KiB of buffer; the kernel fails a request whose
	 * READY no listener can take, so leave room for bursts */
	ktls_genl_set_rcvbuf(&ns->mcast, 1 << 20);
	return 0;
}

/* The file of a handshake_netns entry: a name from ip netns, or a path. */
static int ns_file(const char *tok, char *path, size_t len)
{
	if (tok[0] == '/')
		snprintf(path, len, "%s", tok);
	else
		snprintf(path, len, "/run/netns/%s", tok);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Opens the sockets of every worker in the namespace of @tok (the calling
 * thread enters it and comes back to @home). */
static int ns_open_all(struct agent *a, int idx, const char *tok, int home, ino_t *seen,
		       unsigned int n_workers, char *err, size_t errlen)
{
	bool self = !strcmp(tok, "self");
	char path[256];
	struct stat st;
	int fd = -1, ret = 0;
	const char *name = NULL;

	if (!self) {
		fd = ns_file(tok, path, sizeof(path));
		if (fd < 0 || fstat(fd, &st)) {
			ret = -errno;
			snprintf(err, errlen, "handshake_netns: cannot open %s: %s%s", path,
				 strerror(-ret), tok[0] != '/' ? " (a name from ip netns list)" : "");
			goto out;
		}
		name = strdup(tok);
		if (!name) {
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	} else if (fstat(home, &st)) {
		ret = -errno;
		snprintf(err, errlen, "handshake_netns: the agent's own namespace: %s",
			 strerror(-ret));
		goto out;
	}
	for (int i = 0; i < idx; i++) {
		if (seen[i] == st.st_ino) {
			ret = -EINVAL;
			snprintf(err, errlen, "handshake_netns: %s is a namespace named before", tok);
			goto out;
		}
	}
	seen[idx] = st.st_ino;
	if (!self && setns(fd, CLONE_NEWNET)) {
		ret = -errno;
		snprintf(err, errlen, "handshake_netns: cannot enter %s: %s%s", path,
			 strerror(-ret), ret == -EPERM || ret == -EINVAL ?
			 " (a network namespace, and the agent started as root?)" : "");
		goto out;
	}
	for (unsigned int w = 0; w < n_workers && !ret; w++) {
		ret = ns_open(&a->upcall_socks[w * (unsigned int)a->n_upcall_ns + (unsigned int)idx],
			      name);
		if (ret)
			snprintf(err, errlen, "handshake_netns: no handshake family in %s: %s",
				 tok, strerror(-ret));
	}
	if (!self && setns(home, CLONE_NEWNET)) {
		/* the agent's own sockets would be made in the wrong place */
		ret = -errno;
		snprintf(err, errlen, "handshake_netns: cannot come back from %s: %s", tok,
			 strerror(-ret));
	}
	name = NULL;	/* the sockets hold it now */
out:
	free((char *)name);
	if (fd >= 0)
		close(fd);
	return ret;
}

int upcall_open_namespaces(struct agent *a, const char *list, unsigned int n_workers,
			   char *err, size_t errlen)
{
	char *copy = strdup(list ? list : "self"), *save = NULL, *tok;
	ino_t seen[UPCALL_MAX_NETNS];
	int home = -1, n = 0, ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save))
		n++;
	strcpy(copy, list ? list : "self");	/* strtok_r wrote into it */
	save = NULL;
	a->n_upcall_ns = n;
	a->n_upcall_workers = n_workers;
	a->upcall_socks = calloc((size_t)n * n_workers, sizeof(*a->upcall_socks));
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!a->upcall_socks || home < 0 || n > UPCALL_MAX_NETNS) {
		ret = a->upcall_socks && home < 0 ? -errno : -ENOMEM;
		snprintf(err, errlen, "handshake_netns: %s", strerror(-ret));
		goto out;
	}
	n = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok && !ret;
	     tok = strtok_r(NULL, ", \t", &save))
		ret = ns_open_all(a, n++, tok, home, seen, n_workers, err, errlen);
out:
	if (home >= 0)
		close(home);
	free(copy);
	if (ret)
		upcall_close_namespaces(a);
	return ret;
}

void upcall_close_namespaces(struct agent *a)
{
	unsigned int n = (unsigned int)a->n_upcall_ns * a->n_upcall_workers;

	for (unsigned int i = 0; a->upcall_socks && i < n; i++) {
		struct upcall_ns *ns = &a->upcall_socks[i];

		ktls_genl_close(&ns->cmd);
		ktls_genl_close(&ns->mcast);
		/* the name is shared by the workers: freed with the first's */
		if (i < (unsigned int)a->n_upcall_ns)
			free((char *)ns->name);
	}
	free(a->upcall_socks);
	a->upcall_socks = NULL;
	a->n_upcall_ns = 0;
}

int upcall_worker_open(struct worker *w)
{
	struct agent *a = w->agent;

	if ((unsigned int)w->index >= a->n_upcall_workers)
		return -EINVAL;
	w->hs = &a->upcall_socks[(unsigned int)w->index * (unsigned int)a->n_upcall_ns];
	w->n_hs = a->n_upcall_ns;
	for (int i = 0; i < w->n_hs; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->hs[i].kind };

		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_genl_fd(&w->hs[i].mcast), &ev))
			return -errno;
	}
	return 0;
}

/* ---- ACCEPT ---- */

struct accepted {
	int fd;
	struct upcall_job up;
};

static struct nla_policy accept_policy[KTLS_GENL_MAX_ATTR + 1] = {
	[HANDSHAKE_A_ACCEPT_SOCKFD] = { .type = NLA_U32 },
	[HANDSHAKE_A_ACCEPT_MESSAGE_TYPE] = { .type = NLA_U32 },
	[HANDSHAKE_A_ACCEPT_TIMEOUT] = { .type = NLA_U32 },
	[HANDSHAKE_A_ACCEPT_AUTH_MODE] = { .type = NLA_U32 },
	[HANDSHAKE_A_ACCEPT_PEER_IDENTITY] = { .type = NLA_U32 },
	[HANDSHAKE_A_ACCEPT_CERTIFICATE] = { .type = NLA_NESTED },
	[HANDSHAKE_A_ACCEPT_PEERNAME] = { .type = NLA_STRING },
};

static struct nla_policy x509_policy[HANDSHAKE_A_X509_MAX + 1] = {
	[HANDSHAKE_A_X509_CERT] = { .type = NLA_U32 },
	[HANDSHAKE_A_X509_PRIVKEY] = { .type = NLA_U32 },
};

static int on_accept_reply(struct nlattr **attrs, struct nlmsghdr *nlh, void *arg)
{
	struct accepted *a = arg;
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *nla;
	int rem;

	if (!attrs[HANDSHAKE_A_ACCEPT_SOCKFD])
		return -EBADMSG;
	a->fd = (int)nla_get_u32(attrs[HANDSHAKE_A_ACCEPT_SOCKFD]);
	if (attrs[HANDSHAKE_A_ACCEPT_MESSAGE_TYPE])
		a->up.msg_type = nla_get_u32(attrs[HANDSHAKE_A_ACCEPT_MESSAGE_TYPE]);
	if (attrs[HANDSHAKE_A_ACCEPT_TIMEOUT])
		a->up.timeout_ms = nla_get_u32(attrs[HANDSHAKE_A_ACCEPT_TIMEOUT]);
	if (attrs[HANDSHAKE_A_ACCEPT_AUTH_MODE])
		a->up.auth = nla_get_u32(attrs[HANDSHAKE_A_ACCEPT_AUTH_MODE]);
	if (attrs[HANDSHAKE_A_ACCEPT_PEERNAME])
		snprintf(a->up.peername, sizeof(a->up.peername), "%s",
			 nla_get_string(attrs[HANDSHAKE_A_ACCEPT_PEERNAME]));
	/* the repeated ones: PSK serials in order, one x509 pair */
	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0), genlmsg_attrlen(gnlh, 0), rem) {
		if (nla_type(nla) == HANDSHAKE_A_ACCEPT_PEER_IDENTITY &&
		    nla_len(nla) >= 4 && a->up.n_peerids < UPCALL_MAX_PEERIDS) {
			a->up.peerids[a->up.n_peerids++] = (int32_t)nla_get_u32(nla);
		} else if (nla_type(nla) == HANDSHAKE_A_ACCEPT_CERTIFICATE) {
			struct nlattr *x[HANDSHAKE_A_X509_MAX + 1];

			if (nla_parse_nested(x, HANDSHAKE_A_X509_MAX, nla, x509_policy) < 0)
				continue;
			if (x[HANDSHAKE_A_X509_CERT])
				a->up.cert = (int32_t)nla_get_u32(x[HANDSHAKE_A_X509_CERT]);
			if (x[HANDSHAKE_A_X509_PRIVKEY])
				a->up.privkey = (int32_t)nla_get_u32(x[HANDSHAKE_A_X509_PRIVKEY]);
		}
	}
	return 0;
}

static int upcall_accept(struct upcall_ns *ns, struct accepted *a)
{
	struct nl_msg *msg = ktls_genl_msg(&ns->cmd, HANDSHAKE_CMD_ACCEPT, 0);

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HANDSHAKE_A_ACCEPT_HANDLER_CLASS, HANDSHAKE_HANDLER_CLASS_TLSHD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return ktls_genl_call(&ns->cmd, msg, HANDSHAKE_A_ACCEPT_MAX, accept_policy,
			      on_accept_reply, a);
}

/* ---- DONE ---- */

static int upcall_done(struct upcall_ns *ns, int fd, int status, int32_t remote_auth)
{
	struct nl_msg *msg = ktls_genl_msg(&ns->cmd, HANDSHAKE_CMD_DONE, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HANDSHAKE_A_DONE_STATUS, (uint32_t)status) ||
	    nla_put_u32(msg, HANDSHAKE_A_DONE_SOCKFD, (uint32_t)fd) ||
	    (remote_auth && nla_put_u32(msg, HANDSHAKE_A_DONE_REMOTE_AUTH,
					(uint32_t)remote_auth))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return ktls_genl_call(&ns->cmd, msg, HANDSHAKE_A_DONE_MAX, NULL, NULL, NULL);
}

/* ---- which profile ---- */

static int sock_port(int fd, bool remote, char *addr, size_t addrlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int port = 0;

	addr[0] = '\0';
	if ((remote ? getpeername(fd, (struct sockaddr *)&ss, &sl) :
		      getsockname(fd, (struct sockaddr *)&ss, &sl)))
		return 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, addr, (socklen_t)addrlen);
		port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, (socklen_t)addrlen);
		port = ntohs(in6->sin6_port);
		/* a v4-mapped peer is named as v4 in upcall_peers */
		if (!strncmp(addr, "::ffff:", 7) && strchr(addr + 7, '.'))
			memmove(addr, addr + 7, strlen(addr + 7) + 1);
	}
	return port;
}

static bool port_in(const struct agent_upcall *u, int port)
{
	if (!u->n_ports)
		return true;
	for (int i = 0; i < u->n_ports; i++)
		if (port >= u->ports[i].lo && port <= u->ports[i].hi)
			return true;
	return false;
}

/* An address in @s (v4-mapped v6 as v4) into @out; its length, or 0. */
static size_t addr_bytes(const char *s, unsigned char out[16])
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) != 1)
		return 0;
	if (!memcmp(out, mapped, sizeof(mapped))) {
		memmove(out, out + 12, 4);
		return 4;
	}
	return 16;
}

/* Addresses are compared as addresses (::1 is 0:0:0:0:0:0:0:1), names
 * without regard to case. */
static bool peer_in(const struct agent_upcall *u, const char *name)
{
	unsigned char a[16], b[16];
	size_t la = addr_bytes(name, a);

	if (!u->n_peers)
		return true;
	for (int i = 0; i < u->n_peers; i++) {
		size_t lb = addr_bytes(u->peers[i], b);

		if (la || lb ? la == lb && !memcmp(a, b, la) : !strcasecmp(u->peers[i], name))
			return true;
	}
	return false;
}

/*
 * The first profile for this role, port and peer.  The server role goes
 * by the local port and the client's address; the client role by the
 * server's port and the name the kernel gave for it (for NFS the host
 * name or address of the mount, never a reverse lookup).
 */
static const struct tls_profile *pick_profile(const struct tls_runtime *rt, int fd,
					      bool client, const char *peername,
					      const char **consumer)
{
	char local[64], remote[64];
	int lport = sock_port(fd, false, local, sizeof(local));
	int rport = sock_port(fd, true, remote, sizeof(remote));
	int port = client ? rport : lport;
	const char *peer = client ? peername : remote;

	*consumer = port == 2049 || port == 20049 ? "nfs" : port == 4420 ? "nvme" : "kernel";
	for (int i = 0; i < rt->n_profiles; i++) {
		const struct agent_upcall *u = &rt->profiles[i].conf->upcall;

		if ((u->roles & (client ? AGENT_ROLE_CLIENT : AGENT_ROLE_SERVER)) &&
		    port_in(u, port) && peer_in(u, peer))
			return &rt->profiles[i];
	}
	return NULL;
}

/* ---- keys ---- */

/* The payload of key @serial (malloc'ed) and its description; -errno. */
static int key_read(int32_t serial, gnutls_datum_t *out, char *desc, size_t desclen)
{
	void *buf = NULL;
	char *d = NULL;
	long n = keyctl_read_alloc(serial, &buf);

	if (n < 0)
		return -errno;
	if (desc) {
		/* "type;uid;gid;perm;description" */
		if (keyctl_describe_alloc(serial, &d) < 0) {
			explicit_bzero(buf, (size_t)n);
			free(buf);
			return -errno;
		}
		const char *p = d;

		for (int i = 0; i < 4 && p; i++) {
			p = strchr(p, ';');
			if (p)
				p++;
		}
		snprintf(desc, desclen, "%s", p ? p : "");
		free(d);
	}
	out->data = buf;
	out->size = (unsigned int)n;
	return 0;
}

static void datum_wipe(gnutls_datum_t *d)
{
	if (d->data) {
		explicit_bzero(d->data, d->size);
		free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* PSK client: the first of the kernel's key serials that reads. */
static int psk_client_creds(struct upcall_job *up, char *why, size_t whylen)
{
	int ret = -ENOKEY;

	if (gnutls_psk_allocate_client_credentials(&up->psk_client) < 0)
		return -ENOMEM;
	for (int i = 0; i < up->n_peerids; i++) {
		gnutls_datum_t key = { 0 };
		char identity[256];

		ret = key_read(up->peerids[i], &key, identity, sizeof(identity));
		if (ret) {
			snprintf(why, whylen, "PSK key %d: %s", up->peerids[i], strerror(-ret));
			continue;
		}
		ret = gnutls_psk_set_client_credentials(up->psk_client, identity, &key,
							GNUTLS_PSK_KEY_RAW) < 0 ? -EINVAL : 0;
		datum_wipe(&key);
		if (!ret) {
			up->remote_auth = up->peerids[i];
			return 0;
		}
		snprintf(why, whylen, "PSK key %d: not usable as a PSK", up->peerids[i]);
	}
	if (!up->n_peerids)
		snprintf(why, whylen, "PSK handshake without a key serial");
	return ret;
}

/*
 * PSK server: the client's identity is the description of a key of type
 * "psk" in the keyrings the kernel linked into the agent's process keyring
 * at ACCEPT (NVMe's .nvme keyring), or in the agent's session keyring.
 */
static int psk_lookup(gnutls_session_t s, const char *identity, gnutls_datum_t *key)
{
	struct upcall_job *up = tls_handshake_psk_ctx(s);
	gnutls_datum_t k = { 0 };
	long serial;

	serial = keyctl_search(KEY_SPEC_PROCESS_KEYRING, "psk", identity, 0);
	if (serial < 0)
		serial = keyctl_search(KEY_SPEC_SESSION_KEYRING, "psk", identity, 0);
	if (serial < 0 || key_read((int32_t)serial, &k, NULL, 0))
		return -1;
	/* GnuTLS frees the key with gnutls_free */
	key->data = gnutls_malloc(k.size);
	if (!key->data) {
		datum_wipe(&k);
		return -1;
	}
	memcpy(key->data, k.data, k.size);
	key->size = k.size;
	datum_wipe(&k);
	if (up)
		up->remote_auth = (int32_t)serial;
	return 0;
}

/* x509 with the certificate and key the kernel named (no 6.12 consumer does;
 * the API has it): PEM payloads, the profile's CAs and CRL. */
static int x509_creds(struct upcall_job *up, const struct agent_profile *conf, char *why,
		      size_t whylen)
{
	gnutls_datum_t cert = { 0 }, key = { 0 };
	int ret;

	if (gnutls_certificate_allocate_credentials(&up->creds) < 0)
		return -ENOMEM;
	ret = conf->ca ? gnutls_certificate_set_x509_trust_file(up->creds, conf->ca,
							       GNUTLS_X509_FMT_PEM) :
	      conf->ca_system ? gnutls_certificate_set_x509_system_trust(up->creds) : 1;
	if (ret >= 0 && conf->crl)
		ret = gnutls_certificate_set_x509_crl_file(up->creds, conf->crl,
							   GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		snprintf(why, whylen, "CA or CRL of profile %s: %s", conf->name,
			 gnutls_strerror(ret));
		return -EINVAL;
	}
	ret = key_read(up->cert, &cert, NULL, 0);
	if (!ret)
		ret = key_read(up->privkey, &key, NULL, 0);
	if (ret) {
		snprintf(why, whylen, "certificate key %d or private key %d: %s", up->cert,
			 up->privkey, strerror(-ret));
	} else if (gnutls_certificate_set_x509_key_mem(up->creds, &cert, &key,
						       GNUTLS_X509_FMT_PEM) < 0) {
		snprintf(why, whylen, "certificate key %d with private key %d: not a PEM "
			 "certificate and its key", up->cert, up->privkey);
		ret = -EINVAL;
	}
	datum_wipe(&cert);
	datum_wipe(&key);
	return ret;
}

/* ---- jobs ---- */

static const char *auth_name(uint32_t auth)
{
	switch (auth) {
	case HANDSHAKE_AUTH_UNAUTH:	return "anonymous";
	case HANDSHAKE_AUTH_PSK:	return "psk";
	case HANDSHAKE_AUTH_X509:	return "x509";
	default:			return "unspecified";
	}
}

static void upcall_free(struct upcall_job *up)
{
	if (up->psk_client)
		gnutls_psk_free_client_credentials(up->psk_client);
	if (up->psk_server)
		gnutls_psk_free_server_credentials(up->psk_server);
	if (up->creds)
		gnutls_certificate_free_credentials(up->creds);
	free(up);
}

/* The handshake's options for its authentication mode; 0 or -errno. */
static int upcall_opts(struct upcall_job *up, const struct tls_profile *p, bool client,
		       struct tls_handshake_opts *o, char *why, size_t whylen)
{
	int ret = 0;

	memset(o, 0, sizeof(*o));
	o->upcall = true;
	o->psk_ctx = up;
	switch (up->auth) {
	case HANDSHAKE_AUTH_PSK:
		if (client) {
			ret = psk_client_creds(up, why, whylen);
			o->psk_client = up->psk_client;
		} else if (gnutls_psk_allocate_server_credentials(&up->psk_server) < 0) {
			ret = -ENOMEM;
		} else {
			gnutls_psk_set_server_credentials_function(up->psk_server, psk_lookup);
			o->psk_server = up->psk_server;
		}
		break;
	case HANDSHAKE_AUTH_UNAUTH:
		/* a client that shows no certificate still checks the server's */
		if (client && p->creds_anon)
			o->creds = p->creds_anon;
		break;
	case HANDSHAKE_AUTH_X509:
		if (up->cert > 0 && up->privkey > 0) {
			ret = x509_creds(up, p->conf, why, whylen);
			o->creds = up->creds;
		}
		break;
	default:
		snprintf(why, whylen, "authentication mode %u unknown", up->auth);
		ret = -EOPNOTSUPP;
	}
	return ret;
}

static void upcall_start(struct worker *w, struct upcall_ns *ns, struct accepted *a)
{
	struct upcall_job *up = malloc(sizeof(*up));
	bool client = a->up.msg_type == HANDSHAKE_MSG_TYPE_CLIENTHELLO;
	struct tls_handshake_opts o;
	struct tls_result res = { 0 };
	const struct tls_profile *p;
	unsigned int ms;
	struct job *j;
	int ret;

	if (!up || !(j = worker_job_new(w, NULL, 0, a->fd))) {
		free(up);
		agent_log(LOG_WARNING, "upcall: out of memory: handshake refused");
		upcall_done(ns, a->fd, ENOMEM, 0);
		close(a->fd);
		return;
	}
	*up = a->up;
	up->ns = ns;
	j->up = up;
	w->n_upcalls++;
	p = pick_profile(&j->gen->rt, a->fd, client, up->peername, &up->consumer);
	if (!p) {
		res.err = EACCES;
		snprintf(res.reason, sizeof(res.reason), "no profile with upcall = %s for "
			 "this port and peer", client ? "client" : "server");
		worker_job_finish(w, j, &res);
		return;
	}
	if (a->up.msg_type != HANDSHAKE_MSG_TYPE_CLIENTHELLO &&
	    a->up.msg_type != HANDSHAKE_MSG_TYPE_SERVERHELLO) {
		res.err = EOPNOTSUPP;
		snprintf(res.reason, sizeof(res.reason), "message type %u unknown",
			 a->up.msg_type);
		worker_job_finish(w, j, &res);
		return;
	}
	ms = p->conf->handshake_timeout_ms;
	if (up->timeout_ms && up->timeout_ms < ms)
		ms = up->timeout_ms;
	j->deadline = worker_now() + ms / 1000.0;
	ret = upcall_opts(up, p, client, &o, res.reason, sizeof(res.reason));
	if (ret) {
		res.err = -ret;
		worker_job_finish(w, j, &res);
		return;
	}
	j->h = tls_handshake_new2(p, a->fd, client ? TLS_ROLE_CLIENT : TLS_ROLE_SERVER,
				  up->peername, NULL, &o, &res);
	worker_job_run(w, j, &res);
}

/*
 * A peer's certificate, verified, as DONE's remote-auth: the key of type
 * "user" described "ktls-agent: peer certificate verified" in the agent's
 * process keyring, holding the last such peer's subject.  add_key() with
 * the same description updates that one key, so the agent never holds more
 * than one and cannot run out of its key quota (nfsd only asks whether
 * there is a peer identity, as with tlshd's constant).  0 if it cannot be
 * made, and without a verified certificate.
 */
static int32_t peer_cert_key(struct job *j, const char *subject)
{
	long serial;

	if (!subject[0])
		return 0;
	serial = add_key("user", "ktls-agent: peer certificate verified", subject,
			 strlen(subject), KEY_SPEC_PROCESS_KEYRING);
	if (serial < 0) {
		agent_log(LOG_WARNING, "upcall %s: cannot record the peer's identity as a key: "
			  "%s", j->peer, strerror(errno));
		return 0;
	}
	return (int32_t)serial;
}

void upcall_job_finish(struct worker *w, struct job *j, struct tls_result *res)
{
	struct upcall_job *up = j->up;
	struct agent_generation *g;
	unsigned int max;
	bool client = up->msg_type == HANDSHAKE_MSG_TYPE_CLIENTHELLO;
	int32_t remote = 0;
	int ret;

	if (!res->err) {
		if (up->auth == HANDSHAKE_AUTH_PSK)
			remote = up->remote_auth;
		else
			remote = peer_cert_key(j, res->peer_identity);
	}
	/* kernel TLS is on the socket; DONE while the descriptor is ours */
	ret = upcall_done(up->ns, j->fd, res->err, remote);
	tls_handshake_free(j->h);
	j->h = NULL;
	close(j->fd);
	if (ret)
		agent_log(LOG_WARNING, "upcall %s %s: the kernel refused DONE: %s",
			  up->consumer ? up->consumer : "kernel", j->peer, strerror(-ret));
	if (!res->err)
		agent_log(LOG_INFO, "upcall %s %s %s peer %s%s%s%s%s: TLS 1.3, kernel TLS on; "
			  "%s%s%s", up->consumer, client ? "client" : "server",
			  auth_name(up->auth), j->peer, up->peername[0] ? " name " : "",
			  up->peername, up->ns->name ? " in netns " : "",
			  up->ns->name ? up->ns->name : "",
			  remote ? "peer authenticated" : "peer not authenticated",
			  res->peer_identity[0] ? " as " : "", res->peer_identity);
	else
		agent_log(LOG_NOTICE, "upcall %s %s %s peer %s%s%s%s%s: failed: %s (%s)",
			  up->consumer ? up->consumer : "kernel", client ? "client" : "server",
			  auth_name(up->auth), j->peer, up->peername[0] ? " name " : "",
			  up->peername, up->ns->name ? " in netns " : "",
			  up->ns->name ? up->ns->name : "", res->reason[0] ? res->reason : strerror(res->err),
			  strerror(res->err));
	upcall_free(up);
	j->up = NULL;
	/* a request may wait in the kernel for this slot (under the bound of
	 * this job's configuration or of a reload since) */
	g = agent_generation_get(w->agent);
	max = g->cfg.upcall_max_inflight < j->gen->cfg.upcall_max_inflight ?
	      g->cfg.upcall_max_inflight : j->gen->cfg.upcall_max_inflight;
	agent_generation_put(g);
	if (w->n_upcalls-- >= (int)max)
		for (int i = 0; i < w->n_hs; i++)
			w->hs[i].ready = true;
}

/*
 * One ACCEPT from @ns; true if a request came or may still wait there.
 * A full worker leaves the rest in the kernel (with their own timeouts)
 * until a handshake ends.
 */
static bool accept_one(struct worker *w, struct upcall_ns *ns)
{
	struct accepted a;
	int ret = upcall_accept(ns, &a);

	if (!ret) {
		if (a.fd >= 0)
			upcall_start(w, ns, &a);
		return true;
	}
	if (ret == -ENOBUFS)
		return true;	/* the reply was dropped; the request went back */
	if (ret == -EACCES) {
		unsigned long missed;
		char note[64];

		/* the kernel ended that request; others may wait behind it */
		if (agent_ratelimit(&w->failures, &missed))
			agent_log(LOG_WARNING, "worker %d: handshake ACCEPT failed: %s (the "
				  "request's keyring may not be linked by the agent's user: "
				  "name it in keyrings =, for NVMe/TCP .nvme)%s", w->index,
				  strerror(-ret), worker_ratelimit_note(missed, note, sizeof(note)));
		return true;
	}
	if (ret != -EAGAIN)
		agent_log(LOG_WARNING, "worker %d: handshake ACCEPT failed: %s", w->index,
			  strerror(-ret));
	return false;
}

void upcall_worker_event(struct worker *w, struct upcall_ns *ns)
{
	struct agent_generation *g = agent_generation_get(w->agent);
	int max = (int)g->cfg.upcall_max_inflight;
	bool more = true;

	agent_generation_put(g);
	if (ns && ktls_genl_read_events(&ns->mcast) == -ENOBUFS)
		ns->ready = true;	/* READYs were dropped: requests may wait */
	if (!w->n_hs)
		return;
	/* One request from each namespace with some in turn, from one
	 * namespace further each round: the upcall_max_inflight slots are
	 * shared, and no namespace's queue may keep the others waiting. */
	while (more && !atomic_load(&w->agent->stopping)) {
		more = false;
		for (int k = 0; k < w->n_hs; k++) {
			struct upcall_ns *n = &w->hs[(w->hs_next + k) % w->n_hs];

			if (!n->ready)
				continue;
			if (w->n_upcalls >= max) {
				n->ready = false;	/* looked at when a slot frees */
				continue;
			}
			n->ready = accept_one(w, n);
			more |= n->ready;
		}
		w->hs_next = (w->hs_next + 1) % w->n_hs;
	}
}
