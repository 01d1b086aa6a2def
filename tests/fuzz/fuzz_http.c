// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: ktls-serve's HTTP request parser and every helper
 * that sees the request's bytes (path decoding, Range, dates, ETags),
 * driven the way ktls-serve drives them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Whether @path holds a "." or ".." segment, or an empty one. */
static bool bad_segment(const char *path)
{
	const char *seg = path;

	if (!*path)
		return false;	/* the root */
	for (;;) {
		size_t n = strcspn(seg, "/");

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		if (!seg[n])
			return false;
		seg += n + 1;
		if (!*seg)
			return false;	/* a trailing slash: a directory */
	}
}

static void check_str(const struct http_str *s, const char *buf, size_t len)
{
	if (s->len && (s->p < buf || s->p + s->len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, exactly @size long, so that reads past it are seen */
	char *buf = malloc(size ? size : 1);
	struct http_request req;
	char path[HTTP_MAX_TARGET + 1];
	uint64_t first, last;
	int ret;
	bool dir;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = http_parse_request(buf, size, &req);
	if (ret > 0) {
		if ((size_t)ret > size || (size_t)ret != req.header_len)
			abort();
		check_str(&req.target, buf, size);
		check_str(&req.range, buf, size);
		check_str(&req.if_none_match, buf, size);
		check_str(&req.if_modified_since, buf, size);
		check_str(&req.if_range, buf, size);
		check_str(&req.user_agent, buf, size);
		check_str(&req.referer, buf, size);
		if (http_decode_path(&req.target, path, sizeof(path), &dir) == 0) {
			if (strlen(path) >= sizeof(path) || path[0] == '/' ||
			    bad_segment(path))
				abort();
			http_content_type(path);
		}
		/* a few file sizes around the edges */
		for (uint64_t fsize = 0; fsize < 3; fsize++) {
			if (http_parse_range(&req.range, fsize, &first, &last) == 1 &&
			    (first > last || last >= fsize))
				abort();
		}
		if (http_parse_range(&req.range, UINT64_MAX, &first, &last) == 1 &&
		    first > last)
			abort();
		http_parse_date(&req.if_modified_since);
		http_parse_date(&req.if_range);
		http_etag_match(&req.if_none_match, "\"5f-1a2b3c\"");
	} else if (ret < 0 && ret != -400 && ret != -414 && ret != -431 && ret != -505) {
		abort();
	}

	/* the helpers on the raw bytes too: they must stand any header value */
	{
		struct http_str whole = { buf, size };

		if (http_decode_path(&whole, path, sizeof(path), &dir) == 0 &&
		    strlen(path) >= sizeof(path))
			abort();
		if (http_parse_range(&whole, 1000, &first, &last) == 1 &&
		    (first > last || last >= 1000))
			abort();
		http_parse_date(&whole);
		http_etag_match(&whole, "\"5f-1a2b3c\"");
	}
	free(buf);
	return 0;
}
