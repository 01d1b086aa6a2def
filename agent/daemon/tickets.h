/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Session ticket master keys, per profile, kept across reloads.
 *
 * GnuTLS encrypts a ticket with a key derived from one 64-byte master per
 * session (SHA3-512 of the time step and the master; the ticket starts
 * with the first 16 bytes of that key, its name).  A profile's masters
 * are a list: the first encrypts new tickets, the others are only
 * accepted.  Which master a session gets is chosen from the name of the
 * ticket the client brings (tickets_select()), so that tickets under an
 * older master still resume.
 *
 * The masters come from ticket_key_file (one or more 64-byte keys, as
 * nginx's ssl_session_ticket_key: rotated by replacing the file and a
 * reload, shared by every host that reads the same file), or are
 * generated and rotated every ticket_rotation seconds, the previous one
 * accepted for one more interval.  A reload keeps the masters of a
 * profile whose file (or lack of one) did not change, so its tickets stay
 * valid.
 *
 * GnuTLS never sees a master itself: it gets a key derived from it with
 * HMAC-SHA-512 and a context, a hash of the profile's name and of what
 * decides who may resume (client_cert, the CA and CRL files' contents,
 * ca = system, the priority string).  So another profile sharing the
 * file, or the same one after a reload that changed any of these (a CRL
 * revoking a client, a new CA, client_cert = required), cannot decrypt
 * older tickets: their clients get a full handshake, with the
 * certificate checks of the configuration in force.
 */
#ifndef KTLS_AGENT_TICKETS_H
#define KTLS_AGENT_TICKETS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TICKET_MASTER_SIZE 64
#define TICKET_NAME_SIZE 16
#define TICKET_MAX_MASTERS 4
#define TICKET_CONTEXT_SIZE 32

struct tickets;
struct agent_profile;

/*
 * The context of profile @p's ticket keys (see above), reading its CA
 * and CRL files.  Returns 0, or a negative errno with the reason in @err.
 */
int tickets_context(const struct agent_profile *p, uint8_t ctx[TICKET_CONTEXT_SIZE],
		    char *err, size_t errlen);

/* The key GnuTLS gets for @master in context @ctx. */
void tickets_derive(const uint8_t master[TICKET_MASTER_SIZE],
		    const uint8_t ctx[TICKET_CONTEXT_SIZE], uint8_t key[TICKET_MASTER_SIZE]);

/*
 * The masters of profile @profile: from @file (NULL: generated, rotated
 * every @rotation_s), the same object as before a reload when nothing
 * changed.  Returns NULL with the reason in @err.  Released with
 * tickets_put().
 */
struct tickets *tickets_get(const char *profile, const char *file, unsigned int rotation_s,
			    char *err, size_t errlen);
void tickets_put(struct tickets *t);

/*
 * Writes into @key the key, in context @ctx, of the master for a session
 * at time @now whose tickets live @lifetime_s (GnuTLS's time step is
 * three lifetimes): the one whose key for this step or the one before is
 * named @name (the first bytes of the client's ticket), else the current
 * one.  Rotates generated masters that are due.  Returns the index chosen
 * (0: current).
 */
int tickets_select(struct tickets *t, const uint8_t ctx[TICKET_CONTEXT_SIZE],
		   const uint8_t *name, time_t now, unsigned int lifetime_s,
		   uint8_t key[TICKET_MASTER_SIZE]);

/* The name GnuTLS gives tickets under @master (a derived key) at time step @step. */
void tickets_name(const uint8_t master[TICKET_MASTER_SIZE], uint64_t step,
		  uint8_t name[TICKET_NAME_SIZE]);

/* How many masters the profile has now (for tests). */
unsigned int tickets_count(struct tickets *t);

#endif
