/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Addresses for messages: "192.0.2.1:443", "[2001:db8::1]:443". */
#ifndef KTLS_ADDR_H
#define KTLS_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* @addr (a struct in_addr or in6_addr of @family) and @port into @out;
 * "?" for an address it cannot show. */
void ktls_format_addr(int family, const void *addr, unsigned int port, char *out, size_t len);

/* The same for an IPv4 or IPv6 @sa; "?:0" for another family. */
void ktls_format_sockaddr(const struct sockaddr *sa, char *out, size_t len);

#endif
