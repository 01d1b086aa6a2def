/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The handoff protocol of ktls-agent's UNIX socket: the path that works
 * without the ktls_offload module, with the same parameters, checks and
 * results as the module's SUBMIT and COMPLETE.
 *
 * Transport: a SOCK_SEQPACKET UNIX socket, by default
 * KTLS_AGENT_SOCKET_PATH, mode 0660 (ktls-agent.conf(5): socket,
 * socket_group).  Whoever can connect may submit; the agent takes the
 * connection's credentials with SO_PEERCRED for its logs.
 *
 * Messages: one per datagram, in netlink format without the generic
 * netlink header: a struct nlmsghdr whose nlmsg_type is a
 * KTLS_OFFLOAD_CMD_* value and whose nlmsg_seq names the request, followed
 * by attributes (struct nlattr, 4-byte aligned) of the module's attribute
 * sets in <linux/ktls_offload.h>.  nlmsg_flags and nlmsg_pid are 0.
 *
 * KTLS_OFFLOAD_CMD_SUBMIT (requester to agent)
 *	Exactly one file descriptor in an SCM_RIGHTS message: the established
 *	TCP socket.  nlmsg_seq: chosen by the requester, unique among its
 *	connection's live requests.  Attributes (KTLS_OFFLOAD_A_REQUEST_*):
 *	ROLE (required), PROFILE, PEERNAME (required for the client role),
 *	ALPN, TIMEOUT_MS (1..300000, default 10000), COOKIE, with the module's
 *	types and limits.  SOCKFD and FLAGS are not accepted here.
 * KTLS_OFFLOAD_CMD_CANCEL (requester to agent)
 *	nlmsg_seq: the request to end with ECANCELED.  No attributes.  Unknown
 *	or finished requests are ignored.
 * KTLS_OFFLOAD_CMD_COMPLETE (agent to requester)
 *	Exactly one per SUBMIT, carrying its nlmsg_seq.  Attributes
 *	(KTLS_OFFLOAD_A_RESULT_*): ID (= the seq), STATUS (0 or a positive
 *	errno), COOKIE, and on success TLS_VERSION, CIPHER, ALPN,
 *	PEER_IDENTITY, RESUMED, as the module's COMPLETE; SNI (the server
 *	name, with any status once the handshake got that far) and, with a
 *	status other than 0, REASON (the failure in words), each
 *	NLA_NUL_STRING of fewer than 256 bytes, when the agent has them.
 *	Besides the agent's handshake errnos (ktls-agent(8)), STATUS may be:
 *	EBADF no descriptor or more than one; ENOTSOCK, EPROTONOSUPPORT,
 *	EINVAL, ENOTCONN, EBUSY, ERANGE as the module's SUBMIT; EEXIST the seq
 *	is in use; EAGAIN the connection has KTLS_AGENT_SOCKET_MAX_PENDING
 *	requests alive; EMSGSIZE the message was longer than
 *	KTLS_AGENT_SOCKET_MSG_MAX; ECANCELED after CANCEL; ETIMEDOUT the
 *	timeout passed; ESHUTDOWN the agent is stopping.
 *
 * Closing the connection cancels its live requests.  A requester that does
 * not read its COMPLETEs until the agent's send buffer (1 MiB) fills is
 * disconnected.  The socket is never touched by the agent once COMPLETE
 * is sent; until then the requester must not read, write or close it.
 */
#ifndef KTLS_OFFLOAD_AGENT_SOCKET_H
#define KTLS_OFFLOAD_AGENT_SOCKET_H

#define KTLS_AGENT_SOCKET_PATH		"/run/ktls-offload/agent.sock"
#define KTLS_AGENT_SOCKET_MSG_MAX	4096
#define KTLS_AGENT_SOCKET_MAX_PENDING	1024
#define KTLS_AGENT_SOCKET_TIMEOUT_MS	10000

#endif
