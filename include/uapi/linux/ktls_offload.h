/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * ktls_offload: generic netlink protocol between the ktls_offload kernel
 * module and its userspace (ktls-agent, libktls, ktlsctl).  The spec is
 * include/ktls_offload.yaml; `make check` checks this header against it.
 *
 * A requester hands an established TCP socket to a TLS agent; the agent
 * runs the handshake, installs kernel TLS on the socket and reports DONE;
 * the requester gets the result back.  The family is network-namespace
 * aware: requests, agents, limits and counters are per namespace.  Errors
 * come back as a negative errno in the netlink ack.
 *
 * Requester commands (anyone):
 *
 * KTLS_OFFLOAD_CMD_SUBMIT
 *	KTLS_OFFLOAD_A_REQUEST_SOCKFD      NLA_U32, required: an established TCP
 *	                                   socket in the caller's fd table
 *	KTLS_OFFLOAD_A_REQUEST_ROLE        NLA_U32, required: ROLE_SERVER or
 *	                                   ROLE_CLIENT, the agent's side
 *	KTLS_OFFLOAD_A_REQUEST_PROFILE     NLA_NUL_STRING, < 64 bytes, optional
 *	KTLS_OFFLOAD_A_REQUEST_PEERNAME    NLA_NUL_STRING, < 256 bytes; required
 *	                                   for the client role (name to verify,
 *	                                   and SNI)
 *	KTLS_OFFLOAD_A_REQUEST_ALPN        NLA_NUL_STRING, < 256 bytes, optional:
 *	                                   comma-separated protocol ids
 *	KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS  NLA_U32, 1..300000, optional (default:
 *	                                   module parameter default_timeout_ms)
 *	KTLS_OFFLOAD_A_REQUEST_COOKIE      NLA_U64, optional, returned with the
 *	                                   result
 *	KTLS_OFFLOAD_A_REQUEST_FLAGS       NLA_U32, optional: SUBMIT_FLAGS_WAIT
 *	                                   keeps the result for WAIT instead of
 *	                                   sending COMPLETE; other bits: EINVAL
 *	Reply: KTLS_OFFLOAD_A_REQUEST_ID (NLA_U32).
 *	Errors: EBADF no such fd; ENOTSOCK not a socket; EPROTONOSUPPORT not
 *	TCP over IPv4/IPv6; EINVAL listening socket, bad role, client role
 *	without peername; ENOTCONN not established; EBUSY a ULP is attached
 *	or a request for the socket is alive; ESRCH no agent in the namespace
 *	(a registered agent socket that is subscribed to the "agents" group); EAGAIN the caller's uid has max_pending_per_uid
 *	requests alive; ENOBUFS the namespace has max_pending alive.
 *
 * KTLS_OFFLOAD_CMD_COMPLETE (notification, unicast to the submitter)
 *	Sent when a request without SUBMIT_FLAGS_WAIT ends.  Attributes as in
 *	the WAIT reply.  If it cannot be queued (the receive buffer is full;
 *	the socket then reads ENOBUFS), the result is kept for WAIT instead.  Status: 0, or the agent's errno, ETIMEDOUT (timeout
 *	in the kernel), ECONNABORTED (the agent's netlink socket closed),
 *	ECANCELED (CANCEL), EPROTO (agent claimed success without kTLS),
 *	ESHUTDOWN (module unloaded or namespace gone).
 *
 * KTLS_OFFLOAD_CMD_WAIT
 *	KTLS_OFFLOAD_A_RESULT_ID           NLA_U32, required
 *	Blocks until a SUBMIT_FLAGS_WAIT request of the calling netlink socket
 *	ends (or collects a result whose COMPLETE could not be delivered),
 *	replies with its result and forgets the request:
 *	  KTLS_OFFLOAD_A_RESULT_ID, _STATUS (NLA_U32, 0 or positive errno),
 *	  _COOKIE (NLA_U64), and on success _TLS_VERSION (NLA_U32,
 *	  TLS_1_x_VERSION), _CIPHER (NLA_U32, TLS_CIPHER_*), _ALPN and
 *	  _PEER_IDENTITY (NLA_NUL_STRING, if any), _RESUMED (NLA_FLAG).
 *	Errors: ENOENT unknown id, or not a wait request of this socket;
 *	EINTR a signal arrived (the request lives on; WAIT again).
 *
 * KTLS_OFFLOAD_CMD_CANCEL
 *	KTLS_OFFLOAD_A_REQUEST_ID          NLA_U32, required
 *	Ends a request of the calling netlink socket with ECANCELED.
 *	Errors: ENOENT unknown, finished, or not this socket's.
 *
 * Agent commands (CAP_NET_ADMIN in the namespace's user namespace, else
 * EPERM):
 *
 * KTLS_OFFLOAD_CMD_READY (notification, multicast group "agents")
 *	No attributes.  A request was queued: ACCEPT until EAGAIN.
 *
 * KTLS_OFFLOAD_CMD_ACCEPT
 *	No attributes.  Takes the oldest pending request and installs its
 *	socket in the caller's fd table, close-on-exec.  The first ACCEPT on a
 *	netlink socket, even one answered EAGAIN, registers it as an agent of
 *	the namespace until it closes: an agent joins the "agents" group and
 *	issues ACCEPT once before requesters can SUBMIT.  Reply:
 *	  KTLS_OFFLOAD_A_REQUEST_ID, _SOCKFD, _ROLE, _TIMEOUT_MS (left),
 *	  _PID, _UID, _GID (NLA_U32, in the caller's namespaces), and
 *	  _PROFILE, _PEERNAME, _ALPN if the requester gave them.
 *	Errors: EAGAIN nothing pending; EMFILE no free fd.
 *
 * KTLS_OFFLOAD_CMD_DONE
 *	KTLS_OFFLOAD_A_RESULT_ID           NLA_U32, required
 *	KTLS_OFFLOAD_A_RESULT_STATUS       NLA_U32, required, 0..133 (an errno)
 *	KTLS_OFFLOAD_A_RESULT_TLS_VERSION  NLA_U32 \
 *	KTLS_OFFLOAD_A_RESULT_CIPHER       NLA_U32  } on success
 *	KTLS_OFFLOAD_A_RESULT_ALPN         NLA_NUL_STRING, < 256 bytes
 *	KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY NLA_NUL_STRING, < 1024 bytes
 *	KTLS_OFFLOAD_A_RESULT_RESUMED      NLA_FLAG
 *	Only from the netlink socket that accepted the request.  With status 0
 *	the socket must have the tls ULP with TX and RX configured; if not,
 *	the request fails with EPROTO and so does DONE.
 *	Errors: ENOENT unknown, finished or expired id; EPERM accepted by
 *	another socket; EPROTO success claimed without kernel TLS.
 *
 * KTLS_OFFLOAD_CMD_GET_REQUEST (dump)
 *	One message per live request: _ID, _STATE (STATE_*), _ROLE,
 *	_TIMEOUT_MS (left), _PID, _UID, _PROFILE/_PEERNAME if given, and
 *	_AGENT_PORTID once accepted.
 *
 * Anyone:
 *
 * KTLS_OFFLOAD_CMD_GET_VERSION
 *	Reply: KTLS_OFFLOAD_A_VERSION_MODULE (NLA_NUL_STRING, the release),
 *	KTLS_OFFLOAD_A_VERSION_PROTOCOL (NLA_U32, KTLS_OFFLOAD_FAMILY_VERSION).
 *
 * KTLS_OFFLOAD_CMD_GET_STATS
 *	Reply: KTLS_OFFLOAD_A_STATS_SUBMITTED, _ACCEPTED, _COMPLETED, _FAILED,
 *	_TIMED_OUT, _CANCELLED, _AGENT_LOSSES (NLA_U64), _PENDING and
 *	_AGENTS (NLA_U32, registered agent sockets),
 *	and one nested _ERRNO per errno that ended a request, holding
 *	KTLS_OFFLOAD_A_ERRNO_COUNT_ERRNO (NLA_U32) and _COUNT (NLA_U64).
 *
 * Listener mode (CAP_NET_ADMIN):
 *
 * KTLS_OFFLOAD_CMD_ATTACH
 *	KTLS_OFFLOAD_A_LISTENER_SOCKFD       NLA_U32, required: a listening TCP
 *	                                     socket (IPv4/IPv6) in the caller's
 *	                                     fd table
 *	KTLS_OFFLOAD_A_LISTENER_PROFILE      NLA_NUL_STRING, < 64 bytes, optional
 *	KTLS_OFFLOAD_A_LISTENER_ALPN         NLA_NUL_STRING, < 256 bytes, optional
 *	KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT NLA_U32, 1..65535, optional (default:
 *	                                     module parameter listen_max_inflight)
 *	KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS   NLA_U32, 1..300000, optional
 *	From then on every connection on the listener goes to an agent for a
 *	server-role handshake with the profile first, on behalf of the caller
 *	(its pid, uid and gid, which also count against max_pending_per_uid);
 *	accept() returns only connections with kernel TLS installed, and
 *	poll() reports the listener readable only when one is waiting.  Failed
 *	handshakes are closed.  Handshakes in flight plus connections waiting
 *	for accept() are bounded by MAX_INFLIGHT; beyond it new connections
 *	wait in the listen() backlog.  With no agent in the namespace they wait
 *	there too.  The attachment ends with DETACH, the listener's close, or
 *	module unload; connections the module holds then are closed, and
 *	accept() calls blocked on the listener fail with ECONNABORTED.  An
 *	agent closes its descriptor of a listener's connection before DONE.
 *	Reply: KTLS_OFFLOAD_A_LISTENER_ID (NLA_U32).
 *	Errors: EBADF, ENOTSOCK; EPROTONOSUPPORT not TCP over IPv4/IPv6;
 *	EINVAL not listening; EBUSY attached already; ESHUTDOWN unloading.
 *
 * KTLS_OFFLOAD_CMD_DETACH
 *	KTLS_OFFLOAD_A_LISTENER_SOCKFD or KTLS_OFFLOAD_A_LISTENER_ID
 *	Ends an attachment; accept() is the kernel's plain one again.
 *	Errors: ENOENT no such attached listener in the namespace.
 *
 * KTLS_OFFLOAD_CMD_GET_LISTENER (dump; anyone)
 *	One message per attached listener of the namespace: _ID, _PID, _UID,
 *	_FAMILY (AF_INET/AF_INET6), _LOCAL_ADDR (4 or 16 bytes), _LOCAL_PORT,
 *	_INODE (NLA_U64, of the socket), _PROFILE/_ALPN if given,
 *	_MAX_INFLIGHT, _TIMEOUT_MS, _INFLIGHT and _READY (NLA_U32, now), and
 *	the NLA_U64 counters _HANDSHAKES (handed to an agent), _ESTABLISHED,
 *	_FAILED, _REFUSED (closed before a handshake: a limit or no memory),
 *	_DELIVERED (returned by accept()) and _DROPPED (established, closed
 *	undelivered at detach).
 *
 * Closing the submitting netlink socket cancels its pending requests and
 * forgets its uncollected results; accepted ones end silently.
 *
 * Commands that take no attributes reject any (EINVAL).  The policies
 * reject unknown attribute types and malformed strings with EINVAL and
 * out-of-range numbers with ERANGE.
 */
#ifndef _UAPI_LINUX_KTLS_OFFLOAD_H
#define _UAPI_LINUX_KTLS_OFFLOAD_H

#define KTLS_OFFLOAD_FAMILY_NAME	"ktls_offload"
#define KTLS_OFFLOAD_FAMILY_VERSION	1

#define KTLS_OFFLOAD_MCGRP_AGENTS	"agents"

enum ktls_offload_role {
	KTLS_OFFLOAD_ROLE_NONE,
	KTLS_OFFLOAD_ROLE_SERVER,
	KTLS_OFFLOAD_ROLE_CLIENT
};

enum ktls_offload_state {
	KTLS_OFFLOAD_STATE_PENDING,
	KTLS_OFFLOAD_STATE_ACCEPTED,
	KTLS_OFFLOAD_STATE_COMPLETED
};

enum ktls_offload_submit_flags {
	KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT = 1
};

enum {
	KTLS_OFFLOAD_A_VERSION_MODULE = 1,
	KTLS_OFFLOAD_A_VERSION_PROTOCOL,

	__KTLS_OFFLOAD_A_VERSION_MAX,
	KTLS_OFFLOAD_A_VERSION_MAX = (__KTLS_OFFLOAD_A_VERSION_MAX - 1)
};

enum {
	KTLS_OFFLOAD_A_REQUEST_ID = 1,
	KTLS_OFFLOAD_A_REQUEST_SOCKFD,
	KTLS_OFFLOAD_A_REQUEST_ROLE,
	KTLS_OFFLOAD_A_REQUEST_PROFILE,
	KTLS_OFFLOAD_A_REQUEST_PEERNAME,
	KTLS_OFFLOAD_A_REQUEST_ALPN,
	KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS,
	KTLS_OFFLOAD_A_REQUEST_COOKIE,
	KTLS_OFFLOAD_A_REQUEST_FLAGS,
	KTLS_OFFLOAD_A_REQUEST_PID,
	KTLS_OFFLOAD_A_REQUEST_UID,
	KTLS_OFFLOAD_A_REQUEST_GID,
	KTLS_OFFLOAD_A_REQUEST_STATE,
	KTLS_OFFLOAD_A_REQUEST_AGENT_PORTID,
	KTLS_OFFLOAD_A_REQUEST_PAD,

	__KTLS_OFFLOAD_A_REQUEST_MAX,
	KTLS_OFFLOAD_A_REQUEST_MAX = (__KTLS_OFFLOAD_A_REQUEST_MAX - 1)
};

enum {
	KTLS_OFFLOAD_A_RESULT_ID = 1,
	KTLS_OFFLOAD_A_RESULT_STATUS,
	KTLS_OFFLOAD_A_RESULT_COOKIE,
	KTLS_OFFLOAD_A_RESULT_TLS_VERSION,
	KTLS_OFFLOAD_A_RESULT_CIPHER,
	KTLS_OFFLOAD_A_RESULT_ALPN,
	KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY,
	KTLS_OFFLOAD_A_RESULT_RESUMED,
	KTLS_OFFLOAD_A_RESULT_PAD,

	__KTLS_OFFLOAD_A_RESULT_MAX,
	KTLS_OFFLOAD_A_RESULT_MAX = (__KTLS_OFFLOAD_A_RESULT_MAX - 1)
};

enum {
	KTLS_OFFLOAD_A_STATS_SUBMITTED = 1,
	KTLS_OFFLOAD_A_STATS_ACCEPTED,
	KTLS_OFFLOAD_A_STATS_COMPLETED,
	KTLS_OFFLOAD_A_STATS_FAILED,
	KTLS_OFFLOAD_A_STATS_TIMED_OUT,
	KTLS_OFFLOAD_A_STATS_CANCELLED,
	KTLS_OFFLOAD_A_STATS_AGENT_LOSSES,
	KTLS_OFFLOAD_A_STATS_PENDING,
	KTLS_OFFLOAD_A_STATS_ERRNO,
	KTLS_OFFLOAD_A_STATS_PAD,
	KTLS_OFFLOAD_A_STATS_AGENTS,

	__KTLS_OFFLOAD_A_STATS_MAX,
	KTLS_OFFLOAD_A_STATS_MAX = (__KTLS_OFFLOAD_A_STATS_MAX - 1)
};

enum {
	KTLS_OFFLOAD_A_ERRNO_COUNT_ERRNO = 1,
	KTLS_OFFLOAD_A_ERRNO_COUNT_COUNT,
	KTLS_OFFLOAD_A_ERRNO_COUNT_PAD,

	__KTLS_OFFLOAD_A_ERRNO_COUNT_MAX,
	KTLS_OFFLOAD_A_ERRNO_COUNT_MAX = (__KTLS_OFFLOAD_A_ERRNO_COUNT_MAX - 1)
};

enum {
	KTLS_OFFLOAD_A_LISTENER_ID = 1,
	KTLS_OFFLOAD_A_LISTENER_SOCKFD,
	KTLS_OFFLOAD_A_LISTENER_PROFILE,
	KTLS_OFFLOAD_A_LISTENER_ALPN,
	KTLS_OFFLOAD_A_LISTENER_MAX_INFLIGHT,
	KTLS_OFFLOAD_A_LISTENER_TIMEOUT_MS,
	KTLS_OFFLOAD_A_LISTENER_PID,
	KTLS_OFFLOAD_A_LISTENER_UID,
	KTLS_OFFLOAD_A_LISTENER_FAMILY,
	KTLS_OFFLOAD_A_LISTENER_LOCAL_ADDR,
	KTLS_OFFLOAD_A_LISTENER_LOCAL_PORT,
	KTLS_OFFLOAD_A_LISTENER_INODE,
	KTLS_OFFLOAD_A_LISTENER_INFLIGHT,
	KTLS_OFFLOAD_A_LISTENER_READY,
	KTLS_OFFLOAD_A_LISTENER_HANDSHAKES,
	KTLS_OFFLOAD_A_LISTENER_ESTABLISHED,
	KTLS_OFFLOAD_A_LISTENER_FAILED,
	KTLS_OFFLOAD_A_LISTENER_REFUSED,
	KTLS_OFFLOAD_A_LISTENER_DELIVERED,
	KTLS_OFFLOAD_A_LISTENER_DROPPED,
	KTLS_OFFLOAD_A_LISTENER_PAD,

	__KTLS_OFFLOAD_A_LISTENER_MAX,
	KTLS_OFFLOAD_A_LISTENER_MAX = (__KTLS_OFFLOAD_A_LISTENER_MAX - 1)
};

enum {
	KTLS_OFFLOAD_CMD_GET_VERSION = 1,
	KTLS_OFFLOAD_CMD_SUBMIT,
	KTLS_OFFLOAD_CMD_READY,
	KTLS_OFFLOAD_CMD_ACCEPT,
	KTLS_OFFLOAD_CMD_DONE,
	KTLS_OFFLOAD_CMD_COMPLETE,
	KTLS_OFFLOAD_CMD_WAIT,
	KTLS_OFFLOAD_CMD_CANCEL,
	KTLS_OFFLOAD_CMD_GET_REQUEST,
	KTLS_OFFLOAD_CMD_GET_STATS,
	KTLS_OFFLOAD_CMD_ATTACH,
	KTLS_OFFLOAD_CMD_DETACH,
	KTLS_OFFLOAD_CMD_GET_LISTENER,

	__KTLS_OFFLOAD_CMD_MAX,
	KTLS_OFFLOAD_CMD_MAX = (__KTLS_OFFLOAD_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_KTLS_OFFLOAD_H */
