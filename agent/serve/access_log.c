// SPDX-License-Identifier: GPL-2.0 OR MIT
/* ktls-serve's access log: one line per response, in nginx's "combined"
 * format followed by the TLS version and cipher. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "serve.h"

/* @p[0..@len) for a quoted access-log field, as nginx escapes it: '"',
 * '\\' and bytes outside printable ASCII as \xHH; "-" if empty. */
static const char *log_field(const char *p, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (!len)
		return "-";
	for (size_t i = 0; i < len && n + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, outlen - n, "\\x%02X", ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = '\0';
	return out;
}

void serve_access_log(struct conn *c)
{
	char when[64], method[64], target[4 * HTTP_MAX_TARGET + 8], referer[1024], agent[1024];
	struct tm tm;
	time_t t;

	if (!serve_cfg.access_log)
		return;
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	log_field(c->req.method_str.p, c->req.method_str.len, method, sizeof(method));
	log_field(c->req.target.p, c->req.target.len, target, sizeof(target));
	pthread_mutex_lock(&serve_cfg.log_lock);
	if (c->req.method_str.len)
		fprintf(serve_cfg.access_log, "%s - - [%s] \"%s %s HTTP/1.%d\" ", c->peer, when,
			method, target, c->req.minor);
	else	/* no request line (timed out, unparsable) */
		fprintf(serve_cfg.access_log, "%s - - [%s] \"-\" ", c->peer, when);
	fprintf(serve_cfg.access_log, "%d %llu \"%s\" \"%s\" %s%s\n", c->status,
		(unsigned long long)c->sent,
		log_field(c->req.referer.p, c->req.referer.len, referer, sizeof(referer)),
		log_field(c->req.user_agent.p, c->req.user_agent.len, agent, sizeof(agent)),
		c->tls ? (c->tls_version == 0x0304 ? "TLSv1.3 " : "TLSv1.2 ") : "plain",
		c->tls ? ktls_cipher_name(c->cipher) : "");
	fflush(serve_cfg.access_log);
	pthread_mutex_unlock(&serve_cfg.log_lock);
}
