/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The HTTP/1.1 request parser of ktls-serve, and the helpers around it
 * that see untrusted bytes: percent-decoding and path checks, Range and
 * HTTP dates.  No I/O, no allocation: every function works on the caller's
 * buffer, so that each can be fuzzed on its own.
 */
#ifndef KTLS_HTTP_H
#define KTLS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HTTP_MAX_HEADER		8192	/* request line + headers: 431 beyond */
#define HTTP_MAX_TARGET		4096	/* request target: 414 beyond */

enum http_method { HTTP_OTHER, HTTP_GET, HTTP_HEAD };

struct http_str {
	const char *p;		/* into the request buffer; not terminated */
	size_t len;
};

struct http_request {
	enum http_method method;
	struct http_str method_str, target;
	int minor;			/* HTTP/1.x */
	bool keep_alive;		/* after the headers and the version */
	bool has_body;			/* Content-Length > 0 or Transfer-Encoding */
	bool has_host;
	struct http_str range, if_range, if_none_match, if_modified_since,
			user_agent, referer;
	size_t header_len;		/* bytes of the request, up to the blank line */
};

/*
 * Parses the request at the start of @buf.  Returns the header length
 * (> 0) with @req filled, 0 if more bytes are needed, or the negative HTTP
 * status to answer with: -400 malformed, -414 target too long, -431
 * headers too large, -505 not HTTP/1.x.
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/*
 * Decodes the path of a request target (origin form; the query is
 * dropped) into @out as a relative path for openat2() below the root:
 * "" for the root itself, no leading slash.  Returns the HTTP status to
 * answer with if it is refused: 400 for bad escapes, %00, a ".." or "."
 * segment, backslashes, or an absolute-form target; 0 when fine.
 * *@dir is set if the path ends in '/'.
 */
int http_decode_path(const struct http_str *target, char *out, size_t outlen, bool *dir);

/*
 * A single byte range "bytes=A-B", "bytes=A-" or "bytes=-N" against a
 * file of @size bytes.  Returns 1 with [*first, *last] set, 0 if the
 * header should be ignored (not bytes, several ranges, malformed), or -1
 * if it is unsatisfiable (416).
 */
int http_parse_range(const struct http_str *h, uint64_t size, uint64_t *first,
		     uint64_t *last);

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); -1 if it is not one. */
time_t http_parse_date(const struct http_str *h);
/* Formats @t as an IMF-fixdate into @out (at least 30 bytes). */
void http_format_date(time_t t, char *out, size_t len);

/* Whether an If-None-Match list holds @etag (or is "*"). */
bool http_etag_match(const struct http_str *h, const char *etag);

/* The media type for a file name, by extension. */
const char *http_content_type(const char *name);

#endif
