/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The kernel's "handshake" generic netlink family (Linux 6.5 and later,
 * Documentation/netlink/specs/handshake.yaml): its numbers, for building on
 * a system whose kernel headers predate it (Debian 12's linux-libc-dev is
 * 6.1).  Where <linux/handshake.h> exists it is used and must agree.
 */
#ifndef KTLS_AGENT_HANDSHAKE_NL_H
#define KTLS_AGENT_HANDSHAKE_NL_H

#if defined(__has_include) && __has_include(<linux/handshake.h>)
#include <linux/handshake.h>
#else
#define HANDSHAKE_FAMILY_NAME		"handshake"
#define HANDSHAKE_FAMILY_VERSION	1
#define HANDSHAKE_MCGRP_TLSHD		"tlshd"

/* handler classes, message types, authentication modes */
#define HANDSHAKE_HANDLER_CLASS_TLSHD	1
#define HANDSHAKE_MSG_TYPE_CLIENTHELLO	1
#define HANDSHAKE_MSG_TYPE_SERVERHELLO	2
#define HANDSHAKE_AUTH_UNAUTH		1
#define HANDSHAKE_AUTH_PSK		2
#define HANDSHAKE_AUTH_X509		3

/* commands */
#define HANDSHAKE_CMD_READY		1
#define HANDSHAKE_CMD_ACCEPT		2
#define HANDSHAKE_CMD_DONE		3

/* ACCEPT's attributes (request: the handler class; reply: the rest) */
#define HANDSHAKE_A_ACCEPT_SOCKFD	1
#define HANDSHAKE_A_ACCEPT_HANDLER_CLASS 2
#define HANDSHAKE_A_ACCEPT_MESSAGE_TYPE	3
#define HANDSHAKE_A_ACCEPT_TIMEOUT	4
#define HANDSHAKE_A_ACCEPT_AUTH_MODE	5
#define HANDSHAKE_A_ACCEPT_PEER_IDENTITY 6	/* repeated: key serials */
#define HANDSHAKE_A_ACCEPT_CERTIFICATE	7	/* nested, x509 below */
#define HANDSHAKE_A_ACCEPT_PEERNAME	8
#define HANDSHAKE_A_ACCEPT_MAX		8

#define HANDSHAKE_A_X509_CERT		1
#define HANDSHAKE_A_X509_PRIVKEY	2
#define HANDSHAKE_A_X509_MAX		2

/* DONE's attributes */
#define HANDSHAKE_A_DONE_STATUS		1
#define HANDSHAKE_A_DONE_SOCKFD		2
#define HANDSHAKE_A_DONE_REMOTE_AUTH	3	/* repeated: key serials */
#define HANDSHAKE_A_DONE_MAX		3
#endif

#endif
