// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool str_is(const struct http_str *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && !strncasecmp(s->p, lit, n);
}

/*
 * Steps through a comma-separated list from *@pos: the next item, trimmed,
 * in [*start, *end).  False at the end of the list.
 */
static bool next_item(const struct http_str *v, size_t *pos, size_t *start, size_t *end)
{
	size_t i = *pos;

	while (i < v->len && (v->p[i] == ' ' || v->p[i] == '\t' || v->p[i] == ','))
		i++;
	if (i >= v->len)
		return false;
	*start = i;
	while (i < v->len && v->p[i] != ',')
		i++;
	*end = i;
	while (*end > *start && (v->p[*end - 1] == ' ' || v->p[*end - 1] == '\t'))
		(*end)--;
	*pos = i;
	return true;
}

/* Whether a comma-separated header value lists @token. */
static bool has_token(const struct http_str *v, const char *token)
{
	size_t n = strlen(token), pos = 0, start, end;

	while (next_item(v, &pos, &start, &end))
		if (end - start == n && !strncasecmp(v->p + start, token, n))
			return true;
	return false;
}

/* The end of the line starting at @p (at its LF), or NULL. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

static int parse_request_line(const char *p, const char *eol, struct http_request *req)
{
	const char *sp1, *sp2;

	if (eol > p && eol[-1] == '\r')
		eol--;
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || sp1 == p)
		return -400;
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar((unsigned char)*q))
			return -400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return -400;
	req->method_str = (struct http_str){ p, (size_t)(sp1 - p) };
	req->target = (struct http_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	if (req->target.len > HTTP_MAX_TARGET)
		return -414;
	for (size_t i = 0; i < req->target.len; i++) {
		unsigned char c = (unsigned char)req->target.p[i];

		if (c <= ' ' || c >= 0x7f)
			return -400;
	}
	if (eol - sp2 - 1 != 8 || strncmp(sp2 + 1, "HTTP/", 5) || sp2[7] != '.' ||
	    !isdigit((unsigned char)sp2[6]) || !isdigit((unsigned char)sp2[8]))
		return -400;
	if (sp2[6] != '1')
		return -505;
	req->minor = sp2[8] - '0';
	if (str_is(&req->method_str, "GET") && !strncmp(p, "GET", 3))
		req->method = HTTP_GET;
	else if (str_is(&req->method_str, "HEAD") && !strncmp(p, "HEAD", 4))
		req->method = HTTP_HEAD;	/* methods are case-sensitive */
	else
		req->method = HTTP_OTHER;
	return 0;
}

static int parse_header(const char *p, const char *eol, struct http_request *req,
			bool *conn_close, bool *conn_keep, long long *clen)
{
	const char *colon, *v, *ve;
	struct http_str name, val;

	if (eol > p && eol[-1] == '\r')
		eol--;
	if (p == eol)
		return 0;
	if (*p == ' ' || *p == '\t')
		return -400;		/* obsolete line folding */
	colon = memchr(p, ':', (size_t)(eol - p));
	if (!colon || colon == p)
		return -400;
	for (const char *q = p; q < colon; q++)
		if (!is_tchar((unsigned char)*q))
			return -400;	/* includes whitespace before the colon */
	v = colon + 1;
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	ve = eol;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (const char *q = v; q < ve; q++)
		if (*q == '\0' || *q == '\r' || *q == '\n')
			return -400;
	name = (struct http_str){ p, (size_t)(colon - p) };
	val = (struct http_str){ v, (size_t)(ve - v) };

	if (str_is(&name, "Host")) {
		if (req->has_host)
			return -400;
		req->has_host = true;
	} else if (str_is(&name, "Connection")) {
		*conn_close |= has_token(&val, "close");
		*conn_keep |= has_token(&val, "keep-alive");
	} else if (str_is(&name, "Content-Length")) {
		long long n = 0;

		if (!val.len)
			return -400;
		for (size_t i = 0; i < val.len; i++) {
			if (!isdigit((unsigned char)val.p[i]) || n > 1000000000000LL)
				return -400;
			n = n * 10 + (val.p[i] - '0');
		}
		if (*clen >= 0 && *clen != n)
			return -400;
		*clen = n;
		if (n > 0)
			req->has_body = true;
	} else if (str_is(&name, "Transfer-Encoding")) {
		req->has_body = true;
	} else if (str_is(&name, "Range")) {
		req->range = val;
	} else if (str_is(&name, "If-Range")) {
		req->if_range = val;
	} else if (str_is(&name, "If-None-Match")) {
		req->if_none_match = val;
	} else if (str_is(&name, "If-Modified-Since")) {
		req->if_modified_since = val;
	} else if (str_is(&name, "User-Agent")) {
		req->user_agent = val;
	} else if (str_is(&name, "Referer")) {
		req->referer = val;
	}
	return 1;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *p = buf, *end, *eol;
	bool conn_close = false, conn_keep = false;
	long long clen = -1;
	int ret;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: ignore empty lines before the request line */
	while (len && (*p == '\r' || *p == '\n') && p - buf < 16) {
		p++;
		len--;
	}
	end = p + (len < HTTP_MAX_HEADER ? len : HTTP_MAX_HEADER);

	eol = line_end(p, end);
	if (!eol) {
		if (len >= HTTP_MAX_HEADER)
			return memchr(p, ' ', (size_t)(end - p)) ? -414 : -400;
		return 0;
	}
	ret = parse_request_line(p, eol, req);
	if (ret)
		return ret;
	for (p = eol + 1;; p = eol + 1) {
		eol = line_end(p, end);
		if (!eol)
			return len >= HTTP_MAX_HEADER ? -431 : 0;
		ret = parse_header(p, eol, req, &conn_close, &conn_keep, &clen);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
	}
	if (req->minor >= 1 && !req->has_host)
		return -400;
	req->keep_alive = req->minor >= 1 ? !conn_close : conn_keep && !conn_close;
	req->header_len = (size_t)(eol + 1 - buf);
	return (int)req->header_len;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int http_decode_path(const struct http_str *target, char *out, size_t outlen, bool *dir)
{
	size_t n = 0, seg = 0;
	size_t tlen = target->len;
	const char *t = target->p;

	*dir = false;
	if (!tlen || t[0] != '/' || outlen == 0)
		return 400;	/* only origin form: no "http://host/...", no "*" */
	for (size_t i = 0; i < tlen; i++)
		if (t[i] == '?' || t[i] == '#') {
			tlen = i;
			break;
		}
	for (size_t i = 1; i <= tlen; i++) {
		char c;

		if (i == tlen || t[i] == '/') {
			/* end of a segment: out[seg..n) */
			size_t sl = n - seg;

			if ((sl == 1 && out[seg] == '.') ||
			    (sl == 2 && out[seg] == '.' && out[seg + 1] == '.'))
				return 400;
			if (i == tlen)
				break;
			if (sl == 0) {
				if (i + 1 == tlen) {
					*dir = true;	/* trailing slash */
					break;
				}
				continue;		/* "//": one slash */
			}
			if (n + 1 >= outlen)
				return 414;
			out[n++] = '/';
			seg = n;
			if (i + 1 == tlen) {
				*dir = true;
				n--;			/* no trailing slash in out */
				break;
			}
			continue;
		}
		c = t[i];
		if (c == '%') {
			if (i + 2 >= tlen)
				return 400;
			if (hexval(t[i + 1]) < 0 || hexval(t[i + 2]) < 0)
				return 400;
			c = (char)(hexval(t[i + 1]) << 4 | hexval(t[i + 2]));
			i += 2;
			if (c == '\0' || c == '/' || c == '\\')
				return 400;	/* no NUL, no encoded separators */
		} else if (c == '\\') {
			return 400;
		}
		if (n + 1 >= outlen)
			return 414;
		out[n++] = c;
	}
	out[n] = '\0';
	if (!n)
		*dir = true;	/* the root */
	return 0;
}

int http_parse_range(const struct http_str *h, uint64_t size, uint64_t *first,
		     uint64_t *last)
{
	const char *p = h->p, *end;
	uint64_t a = 0, b = 0;
	bool has_a = false, has_b = false;

	if (h->len < 7 || strncasecmp(p, "bytes=", 6))
		return 0;	/* also an absent header: { NULL, 0 } */
	end = h->p + h->len;
	p += 6;
	while (p < end && *p == ' ')
		p++;
	for (; p < end && isdigit((unsigned char)*p); p++, has_a = true) {
		if (a > UINT64_MAX / 10 - 10)
			return 0;
		a = a * 10 + (uint64_t)(*p - '0');
	}
	if (p == end || *p != '-')
		return 0;
	for (p++; p < end && isdigit((unsigned char)*p); p++, has_b = true) {
		if (b > UINT64_MAX / 10 - 10)
			return 0;
		b = b * 10 + (uint64_t)(*p - '0');
	}
	while (p < end && *p == ' ')
		p++;
	if (p != end || (!has_a && !has_b))
		return 0;	/* several ranges, or garbage: serve it all */
	if (!has_a) {		/* the last b bytes */
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (has_b && b < a)
		return 0;	/* invalid: ignored, RFC 9110 14.1.1 */
	if (a >= size)
		return -1;
	*first = a;
	*last = has_b && b < size ? b : size - 1;
	return 1;
}

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

time_t http_parse_date(const struct http_str *h)
{
	char buf[32], mon[4], wd[4], gmt[4];
	struct tm tm = { 0 };
	int n = 0;

	if (h->len != 29)
		return -1;
	memcpy(buf, h->p, 29);
	buf[29] = '\0';
	if (sscanf(buf, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &tm.tm_mday, mon,
		   &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, gmt, &n) != 8 ||
	    n != 29 || strcmp(gmt, "GMT"))
		return -1;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (!strcmp(mon, months[i]))
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return -1;
	tm.tm_year -= 1900;
	return timegm(&tm);
}

void http_format_date(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

bool http_etag_match(const struct http_str *h, const char *etag)
{
	size_t n = strlen(etag), pos = 0, start, end;

	while (next_item(h, &pos, &start, &end)) {
		if (end - start == 1 && h->p[start] == '*')
			return true;
		/* weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter */
		if (end - start > 2 && !strncmp(h->p + start, "W/", 2))
			start += 2;
		if (end - start == n && !memcmp(h->p + start, etag, n))
			return true;
	}
	return false;
}

const char *http_content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" }, { "css", "text/css; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" }, { "mjs", "text/javascript; charset=utf-8" },
		{ "json", "application/json" }, { "xml", "application/xml" },
		{ "svg", "image/svg+xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
		{ "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
		{ "woff", "font/woff" }, { "woff2", "font/woff2" }, { "ttf", "font/ttf" },
		{ "otf", "font/otf" }, { "wasm", "application/wasm" }, { "pdf", "application/pdf" },
		{ "zip", "application/zip" }, { "gz", "application/gzip" },
		{ "tar", "application/x-tar" }, { "xz", "application/x-xz" },
		{ "zst", "application/zstd" }, { "mp4", "video/mp4" }, { "webm", "video/webm" },
		{ "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" }, { "wav", "audio/wav" },
		{ "csv", "text/csv; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
		{ "iso", "application/octet-stream" },
	};
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');

	if (dot && dot[1])
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}
