/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The one place the release number lives; module and userspace share it. */
#ifndef KTLS_OFFLOAD_VERSION_H
#define KTLS_OFFLOAD_VERSION_H

#define KTLS_OFFLOAD_VERSION "0.1.0"

#endif
