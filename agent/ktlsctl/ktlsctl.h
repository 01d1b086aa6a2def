/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KTLSCTL_H
#define KTLSCTL_H

extern const char *ktlsctl_prog;

struct ktls_genl;
/* ktls_genl_open(), saying why on stderr when it fails (attach.c) */
int ktlsctl_open_module(struct ktls_genl *g);

/* Each subcommand: argv[0] is the subcommand's name.  Returns an exit code. */
int ktlsctl_version(int argc, char **argv);
int ktlsctl_attach(int argc, char **argv);
int ktlsctl_detach(int argc, char **argv);
int ktlsctl_status(int argc, char **argv);
int ktlsctl_sockets(int argc, char **argv);

#endif
