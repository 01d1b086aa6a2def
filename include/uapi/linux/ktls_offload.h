/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * ktls_offload: generic netlink protocol between the ktls_offload kernel
 * module and its userspace (ktls-agent, libktls, ktlsctl).
 *
 * Family name:    KTLS_OFFLOAD_FAMILY_NAME ("ktls_offload")
 * Family version: KTLS_OFFLOAD_FAMILY_VERSION
 *
 * The family is network-namespace aware.  Every request carries its
 * attributes directly in the genetlink message (no nesting unless stated).
 * Errors come back as a negative errno in the netlink ack.
 *
 * KTLS_OFFLOAD_CMD_GET_VERSION
 *	Permission: anyone.
 *	Request:    no attributes.
 *	Reply:      KTLS_OFFLOAD_CMD_GET_VERSION with
 *	              KTLS_OFFLOAD_A_VERSION_MODULE   NLA_NUL_STRING, the module's
 *	                                               release, e.g. "0.1.0"
 *	              KTLS_OFFLOAD_A_VERSION_PROTOCOL NLA_U32, equal to
 *	                                               KTLS_OFFLOAD_FAMILY_VERSION
 *	Errors:     none besides allocation failure (-ENOMEM).
 */
#ifndef _UAPI_LINUX_KTLS_OFFLOAD_H
#define _UAPI_LINUX_KTLS_OFFLOAD_H

#define KTLS_OFFLOAD_FAMILY_NAME	"ktls_offload"
#define KTLS_OFFLOAD_FAMILY_VERSION	1

enum ktls_offload_cmd {
	KTLS_OFFLOAD_CMD_UNSPEC,
	KTLS_OFFLOAD_CMD_GET_VERSION,

	__KTLS_OFFLOAD_CMD_MAX,
	KTLS_OFFLOAD_CMD_MAX = __KTLS_OFFLOAD_CMD_MAX - 1
};

enum ktls_offload_a_version {
	KTLS_OFFLOAD_A_VERSION_UNSPEC,
	KTLS_OFFLOAD_A_VERSION_MODULE,
	KTLS_OFFLOAD_A_VERSION_PROTOCOL,

	__KTLS_OFFLOAD_A_VERSION_MAX,
	KTLS_OFFLOAD_A_VERSION_MAX = __KTLS_OFFLOAD_A_VERSION_MAX - 1
};

#endif /* _UAPI_LINUX_KTLS_OFFLOAD_H */
