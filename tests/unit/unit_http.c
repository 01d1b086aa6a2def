// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of ktls-serve's HTTP parser and its helpers: requests
 * parse or get the right error status, paths decode and every traversal
 * trick is refused, ranges, dates, ETags and content types.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "tap.h"

static int parse(const char *s, struct http_request *r)
{
	return http_parse_request(s, strlen(s), r);
}

static int path(const char *t, char *out, bool *dir)
{
	struct http_str s = { t, strlen(t) };

	return http_decode_path(&s, out, 256, dir);
}

static int range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
	struct http_str s = { h, strlen(h) };

	return http_parse_range(&s, size, a, b);
}

int main(void)
{
	static char big[HTTP_MAX_HEADER + 100];
	struct http_request r;
	char out[256], msg[128];
	uint64_t a, b;
	bool dir;
	int ret;

	/* requests */
	ret = parse("GET /x HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	check(ret == 28 && r.method == HTTP_GET && r.keep_alive && r.minor == 1,
	      "a minimal HTTP/1.1 GET: header length, method, keep-alive by default");
	check(parse("GET /x HTTP/1.1\r\nHost: a\r\n", &r) == 0, "an unfinished request needs more bytes");
	check(parse("GET /x HTTP/1.1\r\n\r\n", &r) == -400, "HTTP/1.1 without Host: 400");
	check(parse("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r) == -400, "two Host headers: 400");
	ret = parse("GET /x HTTP/1.0\r\n\r\n", &r);
	check(ret > 0 && !r.keep_alive, "HTTP/1.0: no keep-alive by default");
	ret = parse("GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r);
	check(ret > 0 && r.keep_alive, "HTTP/1.0 with Connection: keep-alive");
	ret = parse("GET /x HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r);
	check(ret > 0 && !r.keep_alive, "Connection: close in a list");
	ret = parse("HEAD /x HTTP/1.1\nHost: a\n\n", &r);
	check(ret > 0 && r.method == HTTP_HEAD, "bare LF line ends are accepted");
	ret = parse("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	check(ret > 0 && r.method == HTTP_GET, "an empty line before the request line is skipped");
	ret = parse("get /x HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	check(ret > 0 && r.method == HTTP_OTHER, "methods are case-sensitive: 'get' is not GET");
	ret = parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", &r);
	check(ret > 0 && r.method == HTTP_OTHER && r.has_body, "POST with a body is seen as such");
	ret = parse("GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r);
	check(ret > 0 && r.has_body, "Transfer-Encoding means a body");
	check(parse("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &r) == -400,
	      "conflicting Content-Length: 400");
	check(parse("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &r) == -400,
	      "a negative Content-Length: 400");
	check(parse("GET /x HTTP/1.1\r\nHost : a\r\n\r\n", &r) == -400, "space before the colon: 400");
	check(parse("GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r) == -400, "obsolete line folding: 400");
	check(parse("GET /x HTTP/2.0\r\nHost: a\r\n\r\n", &r) == -505, "HTTP/2.0 in a request line: 505");
	check(parse("GET /x HTTX/1.1\r\n\r\n", &r) == -400, "not HTTP: 400");
	check(parse("GET  /x HTTP/1.1\r\n\r\n", &r) == -400, "two spaces: 400");
	check(parse("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", &r) == -400, "a control byte in the target: 400");
	check(parse("GET /x HTTP/1.1\r\nHost: a\0b\r\n\r\n", &r) == 0 ||
	      http_parse_request("GET /x HTTP/1.1\r\nHost: a\0b\r\n\r\n", 31, &r) == -400,
	      "a NUL in a header value: 400");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	check(http_parse_request(big, sizeof(big), &r) == -414, "a request line past the limit: 414");
	snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + strlen(big), 'b', sizeof(big) - strlen(big));
	check(http_parse_request(big, sizeof(big), &r) == -431, "headers past 8 KiB: 431");
	ret = parse("GET /x HTTP/1.1\r\nHost: a\r\nRange: bytes=1-2\r\nIf-None-Match: \"e\"\r\n"
		    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nUser-Agent: t\r\n\r\n", &r);
	check(ret > 0 && r.range.len == 9 && r.if_none_match.len == 3 &&
	      r.if_modified_since.len == 29 && r.user_agent.len == 1, "the headers ktls-serve uses are found");

	/* paths */
	check(path("/", out, &dir) == 0 && !out[0] && dir, "/ is the root directory");
	check(path("/a/b.txt", out, &dir) == 0 && !strcmp(out, "a/b.txt") && !dir, "/a/b.txt");
	check(path("/a/b/", out, &dir) == 0 && !strcmp(out, "a/b") && dir, "a trailing slash marks a directory");
	check(path("//a//b", out, &dir) == 0 && !strcmp(out, "a/b"), "repeated slashes collapse");
	check(path("/with%20space?q=1#f", out, &dir) == 0 && !strcmp(out, "with space"),
	      "percent-decoding; the query and fragment are dropped");
	{
		static const char *const bad[] = {
			"/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/%2E%2e/x", "/.%2e/x",
			"/a/%2e%2e", "/.", "/a/./b", "/a%00b", "/a%2fb", "/a%5cb", "/a\\b", "/%",
			"/%4", "/%zz", "etc/passwd", "http://host/a", "*", "",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(msg, sizeof(msg), "'%s' is refused with 400", bad[i]);
			check(path(bad[i], out, &dir) == 400, msg);
		}
	}
	check(path("/a..b/.c/..d", out, &dir) == 0 && !strcmp(out, "a..b/.c/..d"),
	      "dots inside names are just names");

	/* ranges */
	check(range("bytes=0-99", 1000, &a, &b) == 1 && a == 0 && b == 99, "bytes=0-99");
	check(range("bytes=900-", 1000, &a, &b) == 1 && a == 900 && b == 999, "bytes=900-");
	check(range("bytes=-100", 1000, &a, &b) == 1 && a == 900 && b == 999, "bytes=-100");
	check(range("bytes=-5000", 1000, &a, &b) == 1 && a == 0 && b == 999, "a suffix longer than the file");
	check(range("bytes=500-5000", 1000, &a, &b) == 1 && b == 999, "an end past the file is clipped");
	check(range("bytes=1000-", 1000, &a, &b) == -1, "a start at the end: unsatisfiable");
	check(range("bytes=-0", 1000, &a, &b) == -1, "bytes=-0: unsatisfiable");
	check(range("bytes=0-1,5-6", 1000, &a, &b) == 0, "several ranges: ignored (whole file)");
	check(range("bytes=5-1", 1000, &a, &b) == 0, "last before first: ignored");
	check(range("items=0-1", 1000, &a, &b) == 0, "another unit: ignored");
	check(range("bytes=99999999999999999999999-", 1000, &a, &b) == 0, "an overflowing number: ignored");

	/* dates, etags, types */
	{
		struct http_str d = { "Sun, 06 Nov 1994 08:49:37 GMT", 29 };
		struct http_str bad = { "Sunday, 06-Nov-94 08:49:37 GMT", 30 };
		char f[32];

		check(http_parse_date(&d) == 784111777, "an IMF-fixdate parses");
		http_format_date(784111777, f, sizeof(f));
		check(!strcmp(f, "Sun, 06 Nov 1994 08:49:37 GMT"), "and formats back");
		check(http_parse_date(&bad) == -1, "an obsolete date format is not taken");
	}
	{
		struct http_str l = { "\"x\", W/\"abc\"", 12 }, star = { "*", 1 };

		check(http_etag_match(&l, "\"abc\""), "If-None-Match matches a weak tag in a list");
		check(!http_etag_match(&l, "\"ab\""), "and not a prefix of one");
		check(http_etag_match(&star, "\"q\""), "* matches anything");
	}
	check(!strcmp(http_content_type("a/b.HTML"), "text/html; charset=utf-8"), "Content-Type by extension");
	check(!strcmp(http_content_type("a.d/noext"), "application/octet-stream"), "no extension: octet-stream");
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
