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
 * come back as a negative errno in the netlink ack.  No command sleeps in
 * the kernel: a requester waits for COMPLETE with poll() on its socket.
 *
 * Permissions, per command:
 *   anyone: GET_VERSION, SUBMIT, CANCEL, COLLECT, GET_STATS, GET_LISTENER
 *     (which leaves out the profiles unless the reader has CAP_NET_ADMIN
 *     in the initial user namespace)
 *   CAP_NET_ADMIN in the initial user namespace, else EPERM: ACCEPT, DONE,
 *     GET_REQUEST, ATTACH, DETACH (they hand out or act on other
 *     processes' sockets).  Owning a network namespace through a user
 *     namespace is not enough.
 *   the "agents" multicast group: CAP_NET_ADMIN in the user namespace of
 *     the socket's network namespace (the kernel offers no stricter check
 *     for groups).  Joining it yields nothing but READY notifications,
 *     which carry no attributes; an agent registers by ACCEPT.
 *
 * Requests are bound to netlink sockets, not port ids: CANCEL and COLLECT
 * are accepted only from the socket that submitted, DONE only from the
 * socket that accepted, and COMPLETE goes only to the submitting socket
 * while it is open.  A port id that a closed socket left behind, bound
 * again by anyone, gets nothing.
 *
 * Requester commands (anyone):
 *
 * KTLS_OFFLOAD_CMD_SUBMIT
 *	KTLS_OFFLOAD_A_REQUEST_SOCKFD      NLA_U32, required: an established TCP
 *	                                   socket in the caller's fd table, of
 *	                                   the caller's network namespace
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
 *	KTLS_OFFLOAD_A_REQUEST_FLAGS       NLA_U32, optional, reserved: any bit
 *	                                   set is EINVAL (version 1's WAIT flag
 *	                                   is gone)
 *	Reply: KTLS_OFFLOAD_A_REQUEST_ID (NLA_U32).  The result comes as a
 *	COMPLETE notification to the submitting socket, and can come before
 *	this reply and its ack when an agent ends the request at once: keep a
 *	COMPLETE of an unknown id read while waiting for the reply, or match
 *	results by cookie.
 *	The agent receives the requester's open file description itself, not
 *	a copy: file status flags (O_NONBLOCK via F_SETFL) and socket options
 *	either side sets are seen by the other.
 *	Errors: EBADF no such fd; ENOTSOCK not a socket; EPROTONOSUPPORT not
 *	TCP over IPv4/IPv6; EXDEV the socket belongs to another network
 *	namespace; EINVAL listening socket, bad role, client role without
 *	peername, a flag bit; ENOTCONN not established; EBUSY a ULP is
 *	attached or a request for the socket is alive; ESRCH no agent in the
 *	namespace (a socket registered by ACCEPT, and a member of the "agents"
 *	group); EAGAIN the caller's uid has max_pending_per_uid requests
 *	alive; ENOBUFS the namespace has max_pending alive.
 *
 * KTLS_OFFLOAD_CMD_COMPLETE (notification, unicast to the submitter)
 *	Sent when a request ends:
 *	  KTLS_OFFLOAD_A_RESULT_ID, _STATUS (NLA_U32, 0 or positive errno),
 *	  _COOKIE (NLA_U64), and on success _TLS_VERSION (NLA_U32,
 *	  TLS_1_x_VERSION) and _CIPHER (NLA_U32, TLS_CIPHER_*) as the kernel
 *	  has them on the socket, _ALPN and _PEER_IDENTITY (NLA_NUL_STRING,
 *	  if any), _RESUMED (NLA_FLAG); with any status _SNI, and on failure
 *	  _REASON (NLA_NUL_STRING), if the agent's DONE gave them (not for a
 *	  status the module set itself: ETIMEDOUT, EPROTO, ...).
 *	If it cannot be queued (the receive buffer is full; the socket then
 *	reads ENOBUFS), the result is kept for COLLECT instead.  Status: 0, or
 *	the agent's errno, ETIMEDOUT (timeout in the kernel), ECONNABORTED (the
 *	agent's netlink socket closed), ECANCELED (CANCEL), EPROTO (the agent
 *	claimed success without kTLS, or with another version or cipher than
 *	the socket has), ESHUTDOWN (module unloaded or namespace gone).
 *	After any status but 0 the requester must treat the socket as dead:
 *	if an agent had accepted the request and the kernel ended it
 *	(ETIMEDOUT, ECANCELED, ECONNABORTED, EPROTO), the kernel shuts the
 *	socket down (SHUT_RDWR, right after the notification) so that the
 *	agent's work on it stops; after the agent's own errno, or ESHUTDOWN,
 *	the socket holds an unfinished handshake.  A request that no agent
 *	had accepted yet leaves the socket untouched.
 *
 * KTLS_OFFLOAD_CMD_COLLECT
 *	KTLS_OFFLOAD_A_RESULT_ID           NLA_U32, required
 *	Takes the result of a request of the calling netlink socket whose
 *	COMPLETE could not be queued, and forgets the request.  Never waits.
 *	Reply: as COMPLETE.
 *	Errors: EAGAIN the request is still live (its COMPLETE will come);
 *	ENOENT unknown id, not this socket's, or its result was delivered or
 *	collected already.
 *
 * KTLS_OFFLOAD_CMD_CANCEL
 *	KTLS_OFFLOAD_A_REQUEST_ID          NLA_U32, required
 *	Ends a request of the calling netlink socket with ECANCELED (and a
 *	COMPLETE); if an agent had accepted it, its socket is shut down.
 *	Errors: ENOENT unknown, finished, or not this socket's.
 *
 * Agent commands (CAP_NET_ADMIN in the initial user namespace, else EPERM):
 *
 * KTLS_OFFLOAD_CMD_READY (notification, multicast group "agents")
 *	No attributes.  Requests are pending: ACCEPT until EAGAIN (or a
 *	reply with _QUEUE_EMPTY).  It is coalesced: after one READY the next
 *	comes only once an ACCEPT has found the queue empty, or emptied it,
 *	(or failed), so an agent that drains on READY, and on ENOBUFS from its
 *	socket, never misses a request.
 *
 * KTLS_OFFLOAD_CMD_ACCEPT
 *	No attributes.  Takes the oldest pending request and installs its
 *	socket in the caller's fd table, close-on-exec, once the reply is
 *	queued on the caller's socket (if it cannot be, the request goes back
 *	to the queue's head and no descriptor is installed).  The first ACCEPT
 *	on a netlink socket, even one answered EAGAIN, registers it as an
 *	agent of the namespace until it closes: an agent joins the "agents"
 *	group and issues ACCEPT once before requesters can SUBMIT.  Reply:
 *	  KTLS_OFFLOAD_A_REQUEST_ID, _SOCKFD, _ROLE, _TIMEOUT_MS (left),
 *	  _PID, _UID, _GID (NLA_U32, in the caller's namespaces), and
 *	  _PROFILE, _PEERNAME, _ALPN if the requester gave them;
 *	  _QUEUE_EMPTY (NLA_FLAG) if this request was the last one pending:
 *	  READY is re-armed as by an ACCEPT answered EAGAIN, so the agent
 *	  may stop draining here (the next request multicasts READY).
 *	The descriptor refers to the requester's open file description (see
 *	SUBMIT).
 *	Errors: EAGAIN nothing pending; EMFILE no free fd; ENOBUFS, EAGAIN
 *	the reply could not be queued.
 *
 * KTLS_OFFLOAD_CMD_DONE
 *	KTLS_OFFLOAD_A_RESULT_ID           NLA_U32, required
 *	KTLS_OFFLOAD_A_RESULT_STATUS       NLA_U32, required, 0..133 (an errno)
 *	KTLS_OFFLOAD_A_RESULT_TLS_VERSION  NLA_U32 \
 *	KTLS_OFFLOAD_A_RESULT_CIPHER       NLA_U32  } on success
 *	KTLS_OFFLOAD_A_RESULT_ALPN         NLA_NUL_STRING, < 256 bytes
 *	KTLS_OFFLOAD_A_RESULT_PEER_IDENTITY NLA_NUL_STRING, < 1024 bytes
 *	KTLS_OFFLOAD_A_RESULT_RESUMED      NLA_FLAG
 *	KTLS_OFFLOAD_A_RESULT_SNI          NLA_NUL_STRING, < 256 bytes, any status
 *	KTLS_OFFLOAD_A_RESULT_REASON       NLA_NUL_STRING, < 256 bytes, kept
 *	                                   with a status other than 0 only
 *	KTLS_OFFLOAD_A_RESULT_TX_SECRET    NLA_BINARY, 32 or 48 bytes \ TLS 1.3,
 *	KTLS_OFFLOAD_A_RESULT_RX_SECRET    NLA_BINARY, 32 or 48 bytes  } status
 *	KTLS_OFFLOAD_A_RESULT_KEY_UPDATE_AFTER NLA_U64, optional      / 0 only
 *	The application traffic secrets of our sending and receiving side
 *	(RFC 8446 7.1) and the bytes to send under one key (0: the cipher's
 *	limit).  On a kernel whose TLS takes new keys the module keeps them
 *	with the socket and carries out KeyUpdates in both directions; they
 *	are never returned.  Elsewhere they are ignored.
 *	Only from the netlink socket that accepted the request.  With status 0
 *	the socket must have the tls ULP with TX and RX configured, with the
 *	version and cipher claimed; if not, the request fails with EPROTO
 *	(its socket is shut down) and so does DONE.
 *	Errors: ENOENT unknown, finished or expired id; EPERM accepted by
 *	another socket; EPROTO success claimed without that kernel TLS.
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
 * Listener mode (ATTACH, DETACH: CAP_NET_ADMIN in the initial user
 * namespace):
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
 *	The listener gets the TCP ULP "ktls_listen" (never its proto_ops
 *	replaced).  From then on every connection on the listener goes to an
 *	agent for a server-role handshake with the profile first, on behalf
 *	of the listening socket's opener (uid and gid of the socket's
 *	credentials, pid of the caller; they do not count against
 *	max_pending_per_uid, MAX_INFLIGHT bounds them); accept() returns only
 *	connections with kernel TLS installed, and poll() reports the
 *	listener readable when one is waiting.  Failed handshakes are closed.
 *	A connection reaches an agent once its client has sent a byte (module
 *	parameters listen_max_hello bounds those waiting for it or for an
 *	agent, the oldest idle one closed when full; listen_hello_timeout_ms
 *	bounds the wait for the byte); handshakes in flight
 *	plus connections waiting for accept() are bounded by MAX_INFLIGHT,
 *	and connections waiting for an agent slot, or for an agent at all,
 *	give up after TIMEOUT_MS.  TCP Fast Open is refused on the listener
 *	(setsockopt TCP_FASTOPEN: EBUSY).  The attachment ends with DETACH,
 *	the listener's close or its shutdown(); connections the module holds
 *	then are closed; blocked accept() calls behave as on a plain listener
 *	(shutdown() wakes them with EINVAL).  A listener that was ever
 *	attached holds the module until it is closed (rmmod: EBUSY).  An
 *	agent closes its descriptor of a listener's connection before DONE.
 *	Reply: KTLS_OFFLOAD_A_LISTENER_ID (NLA_U32).
 *	Errors: EBADF, ENOTSOCK; EPROTONOSUPPORT not TCP over IPv4/IPv6;
 *	EINVAL not listening, or of another namespace; EBUSY attached
 *	already, or another ULP or layer (sockmap) owns the socket; ENOSPC
 *	the namespace has listen_max_per_net listeners; ESHUTDOWN unloading.
 *
 * KTLS_OFFLOAD_CMD_DETACH
 *	KTLS_OFFLOAD_A_LISTENER_SOCKFD or KTLS_OFFLOAD_A_LISTENER_ID
 *	Ends an attachment; accept() is the kernel's plain one again.  The
 *	socket keeps the (inert) ULP until it is closed, and can be attached
 *	again.
 *	Errors: ENOENT no such attached listener in the namespace.
 *
 * KTLS_OFFLOAD_CMD_GET_LISTENER (dump; anyone)
 *	One message per attached listener of the namespace: _ID, _PID and
 *	_UID (of the process that attached it), _FAMILY (AF_INET/AF_INET6),
 *	_LOCAL_ADDR (4 or 16 bytes), _LOCAL_PORT, _INODE (NLA_U64, of the
 *	socket), _PROFILE if given, _ALPN if given,
 *	_MAX_INFLIGHT, _TIMEOUT_MS, _INFLIGHT and _READY (NLA_U32, now), and
 *	the NLA_U64 counters _HANDSHAKES (handed to an agent), _ESTABLISHED,
 *	_FAILED, _REFUSED (closed before a handshake: a limit or no memory),
 *	_DELIVERED (returned by accept()) and _DROPPED (established, closed
 *	undelivered at detach).  Pids and uids are in the namespaces of the
 *	process that asked for the dump and of the socket it asked on.
 *	_PID, _UID and _PROFILE only to a reader with CAP_NET_ADMIN in the
 *	initial user namespace (the others see what ss(8) shows anyway).
 *
 * Closing the submitting netlink socket ends its live requests with
 * ECANCELED, untold (an accepted one's socket is shut down), and forgets
 * its uncollected results.
 *
 * Commands that take no attributes reject any (EINVAL).  The policies
 * reject unknown attribute types and malformed strings with EINVAL and
 * out-of-range numbers with ERANGE.
 */
#ifndef _UAPI_LINUX_KTLS_OFFLOAD_H
#define _UAPI_LINUX_KTLS_OFFLOAD_H

#define KTLS_OFFLOAD_FAMILY_NAME	"ktls_offload"
#define KTLS_OFFLOAD_FAMILY_VERSION	2

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
	KTLS_OFFLOAD_A_REQUEST_QUEUE_EMPTY,

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
	KTLS_OFFLOAD_A_RESULT_SNI,
	KTLS_OFFLOAD_A_RESULT_REASON,
	KTLS_OFFLOAD_A_RESULT_TX_SECRET,
	KTLS_OFFLOAD_A_RESULT_RX_SECRET,
	KTLS_OFFLOAD_A_RESULT_KEY_UPDATE_AFTER,

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
	KTLS_OFFLOAD_CMD_COLLECT,
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
