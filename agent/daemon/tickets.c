// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "config.h"
#include "tickets.h"

struct tickets {
	struct tickets *next;		/* in the registry */
	unsigned int refs;		/* under registry_lock */
	char *profile, *file;
	unsigned int rotation_s;	/* generated masters only */
	pthread_mutex_t lock;		/* protects the next 3 fields */
	uint8_t masters[TICKET_MAX_MASTERS][TICKET_MASTER_SIZE];
	unsigned int n;
	time_t rotated;			/* when masters[0] was generated */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tickets *registry;

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Reads 1 to TICKET_MAX_MASTERS keys of 64 bytes from @file (mode 0600
 * or stricter: it holds secrets). */
static int read_file(const char *file, uint8_t out[][TICKET_MASTER_SIZE], unsigned int *n,
		     char *err, size_t errlen)
{
	uint8_t buf[TICKET_MAX_MASTERS * TICKET_MASTER_SIZE + 1];
	struct stat st;
	ssize_t len = 0, r;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;

		snprintf(err, errlen, "ticket_key_file %s: %s", file, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "ticket_key_file %s is readable or writable by group or "
			 "others (mode %04o); refusing to use it: chmod 600 %s", file,
			 (unsigned int)(st.st_mode & 07777), file);
		close(fd);
		return -EPERM;
	}
	while ((size_t)len < sizeof(buf) &&
	       (r = read(fd, buf + len, sizeof(buf) - (size_t)len)) > 0)
		len += r;
	close(fd);
	if (len <= 0 || len % TICKET_MASTER_SIZE || len > TICKET_MAX_MASTERS * TICKET_MASTER_SIZE) {
		snprintf(err, errlen, "ticket_key_file %s: %zd bytes; it must hold 1 to %d keys "
			 "of %d random bytes (head -c %d /dev/urandom)", file, len,
			 TICKET_MAX_MASTERS, TICKET_MASTER_SIZE, TICKET_MASTER_SIZE);
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	*n = (unsigned int)(len / TICKET_MASTER_SIZE);
	memcpy(out, buf, (size_t)len);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int generate(uint8_t master[TICKET_MASTER_SIZE])
{
	return gnutls_rnd(GNUTLS_RND_KEY, master, TICKET_MASTER_SIZE) < 0 ? -EIO : 0;
}

struct tickets *tickets_get(const char *profile, const char *file, unsigned int rotation_s,
			    char *err, size_t errlen)
{
	uint8_t masters[TICKET_MAX_MASTERS][TICKET_MASTER_SIZE];
	unsigned int n = 0;
	struct tickets *t;

	if (file && read_file(file, masters, &n, err, errlen))
		return NULL;
	pthread_mutex_lock(&registry_lock);
	for (t = registry; t; t = t->next)
		if (!strcmp(t->profile, profile) && same(t->file, file) &&
		    (file || t->rotation_s == rotation_s))
			break;
	if (t) {
		t->refs++;
		if (file) {
			/* a replaced file takes effect; an unchanged one keeps
			 * the same masters, and so its tickets */
			pthread_mutex_lock(&t->lock);
			explicit_bzero(t->masters, sizeof(t->masters));
			memcpy(t->masters, masters, n * sizeof(masters[0]));
			t->n = n;
			pthread_mutex_unlock(&t->lock);
		}
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->profile = strdup(profile)) || (file && !(t->file = strdup(file)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->refs = 1;
	t->rotation_s = rotation_s;
	if (file) {
		memcpy(t->masters, masters, n * sizeof(masters[0]));
		t->n = n;
	} else if (generate(t->masters[0])) {
		snprintf(err, errlen, "cannot generate a ticket key");
		goto fail;
	} else {
		t->n = 1;
		t->rotated = time(NULL);
	}
	t->next = registry;
	registry = t;
out:
	pthread_mutex_unlock(&registry_lock);
	explicit_bzero(masters, sizeof(masters));
	return t;
fail:
	pthread_mutex_unlock(&registry_lock);
	explicit_bzero(masters, sizeof(masters));
	if (t) {
		free(t->profile);
		free(t->file);
		free(t);
	}
	return NULL;
}

void tickets_put(struct tickets *t)
{
	struct tickets **p;

	if (!t)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--t->refs) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (p = &registry; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
	explicit_bzero(t->masters, sizeof(t->masters));
	pthread_mutex_destroy(&t->lock);
	free(t->profile);
	free(t->file);
	free(t);
}

void tickets_name(const uint8_t master[TICKET_MASTER_SIZE], uint64_t step,
		  uint8_t name[TICKET_NAME_SIZE])
{
	uint8_t in[8 + TICKET_MASTER_SIZE], out[64];

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(step >> (56 - 8 * i));
	memcpy(in + 8, master, TICKET_MASTER_SIZE);
	gnutls_hash_fast(GNUTLS_DIG_SHA3_512, in, sizeof(in), out);
	memcpy(name, out, TICKET_NAME_SIZE);
	explicit_bzero(in, sizeof(in));
	explicit_bzero(out, sizeof(out));
}

/* Generated masters: a new one every rotation_s, the previous one kept
 * for one more interval.  Lock held. */
static void rotate(struct tickets *t, time_t now)
{
	uint8_t fresh[TICKET_MASTER_SIZE];

	if (t->file || !t->rotation_s || now - t->rotated < (time_t)t->rotation_s)
		return;
	if (generate(fresh))
		return;		/* keep the current one rather than none */
	if (now - t->rotated < 2 * (time_t)t->rotation_s) {
		memcpy(t->masters[1], t->masters[0], TICKET_MASTER_SIZE);
		t->n = 2;
	} else {
		t->n = 1;	/* idle for two intervals: the old one is too old */
	}
	memcpy(t->masters[0], fresh, TICKET_MASTER_SIZE);
	explicit_bzero(fresh, sizeof(fresh));
	t->rotated = now;
}

int tickets_select(struct tickets *t, const uint8_t ctx[TICKET_CONTEXT_SIZE],
		   const uint8_t *name, time_t now, unsigned int lifetime_s,
		   uint8_t key[TICKET_MASTER_SIZE])
{
	uint64_t step = lifetime_s ? (uint64_t)now / (lifetime_s * 3ull) : 0;
	uint8_t candidate[TICKET_NAME_SIZE];
	int chosen = 0;

	pthread_mutex_lock(&t->lock);
	rotate(t, now);
	for (unsigned int i = 0; name && i < t->n && !chosen; i++) {
		tickets_derive(t->masters[i], ctx, key);
		for (uint64_t s = step; s + 1 >= step && s > 0 && !chosen; s--) {
			tickets_name(key, s, candidate);
			if (!memcmp(candidate, name, TICKET_NAME_SIZE))
				chosen = (int)i + 1;
		}
	}
	chosen = chosen ? chosen - 1 : 0;
	tickets_derive(t->masters[chosen], ctx, key);
	pthread_mutex_unlock(&t->lock);
	explicit_bzero(candidate, sizeof(candidate));
	return chosen;
}

void tickets_derive(const uint8_t master[TICKET_MASTER_SIZE],
		    const uint8_t ctx[TICKET_CONTEXT_SIZE], uint8_t key[TICKET_MASTER_SIZE])
{
	static const char label[] = "ktls-agent ticket key v1";
	uint8_t in[sizeof(label) + TICKET_CONTEXT_SIZE];

	memcpy(in, label, sizeof(label));
	memcpy(in + sizeof(label), ctx, TICKET_CONTEXT_SIZE);
	/* SHA-512 is always there; a failure would leave a key no ticket matches */
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA512, master, TICKET_MASTER_SIZE, in, sizeof(in),
			     key) < 0)
		gnutls_rnd(GNUTLS_RND_KEY, key, TICKET_MASTER_SIZE);
}

/* Feeds @tag, then the length and bytes of @data (NULL: absent) to @h. */
static void hash_field(gnutls_hash_hd_t h, const char *tag, const void *data, size_t len)
{
	uint8_t n[9] = { data != NULL };

	for (int i = 0; i < 8; i++)
		n[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	gnutls_hash(h, tag, strlen(tag) + 1);
	gnutls_hash(h, n, sizeof(n));
	if (data)
		gnutls_hash(h, data, len);
}

/* Feeds the contents of @path (NULL: absent) to @h, as one field. */
static int hash_file(gnutls_hash_hd_t h, const char *tag, const char *path,
		     char *err, size_t errlen)
{
	uint8_t buf[4096], digest[32];
	size_t r;
	gnutls_hash_hd_t fh;
	FILE *f;

	if (!path) {
		hash_field(h, tag, NULL, 0);
		return 0;
	}
	f = fopen(path, "re");
	if (!f || gnutls_hash_init(&fh, GNUTLS_DIG_SHA256) < 0) {
		int e = f ? EIO : errno;

		snprintf(err, errlen, "%s %s: %s", tag, path, strerror(e));
		if (f)
			fclose(f);
		return -e;
	}
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		gnutls_hash(fh, buf, r);
	gnutls_hash_deinit(fh, digest);
	if (ferror(f)) {
		snprintf(err, errlen, "%s %s: read error", tag, path);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	hash_field(h, tag, digest, sizeof(digest));
	return 0;
}

int tickets_context(const struct agent_profile *p, uint8_t ctx[TICKET_CONTEXT_SIZE],
		    char *err, size_t errlen)
{
	uint8_t mode = (uint8_t)p->client_cert;
	gnutls_hash_hd_t h;
	int ret;

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		snprintf(err, errlen, "profile %s: no SHA-256", p->name);
		return -EIO;
	}
	hash_field(h, "profile", p->name, strlen(p->name));
	hash_field(h, "client_cert", &mode, 1);
	hash_field(h, "ca_system", p->ca_system ? "yes" : NULL, 3);
	hash_field(h, "priority", p->priority, p->priority ? strlen(p->priority) : 0);
	ret = hash_file(h, "ca", p->ca, err, errlen);
	if (!ret)
		ret = hash_file(h, "crl", p->crl, err, errlen);
	gnutls_hash_deinit(h, ctx);
	return ret;
}

unsigned int tickets_count(struct tickets *t)
{
	unsigned int n;

	pthread_mutex_lock(&t->lock);
	n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
