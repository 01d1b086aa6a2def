// SPDX-License-Identifier: GPL-2.0 OR MIT
/* ktls-serve's responses: the status line and headers, error pages, and
 * the file a GET or HEAD asks for (conditional requests, byte ranges). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ktls-offload/version.h>

#include "serve.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

const char *serve_date_now(struct worker *w)
{
	time_t t = time(NULL);

	if (t != w->date_t) {
		w->date_t = t;
		http_format_date(t, w->date, sizeof(w->date));
	}
	return w->date;
}

/* Appends to the response header being built. */
static void hdr(struct conn *c, const char *fmt, ...)
{
	char *base = c->io + HTTP_MAX_HEADER;
	size_t room = IO_SIZE - HTTP_MAX_HEADER;
	va_list ap;
	int n;

	if (c->hdr_len >= room)
		return;
	va_start(ap, fmt);
	n = vsnprintf(base + c->hdr_len, room - c->hdr_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->hdr_len = c->hdr_len + (size_t)n < room ? c->hdr_len + (size_t)n : room;
}

static void start_response(struct worker *w, struct conn *c, int status)
{
	c->status = status;
	c->hdr_len = c->hdr_off = 0;
	hdr(c, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: ktls-serve/%s\r\n", status,
	    reason(status), serve_date_now(w), KTLS_OFFLOAD_VERSION);
}

static void end_headers(struct conn *c)
{
	hdr(c, "%s\r\n", c->keep_alive ? "" : "Connection: close\r\n");
}

/* An error page; statuses that leave the request stream unusable close. */
void serve_error_response(struct worker *w, struct conn *c, int status)
{
	char body[160];
	int n;

	if (status == 400 || status == 413 || status == 414 || status == 431 ||
	    status == 505 || status == 500)
		c->keep_alive = false;
	n = snprintf(body, sizeof(body), "<!DOCTYPE html><title>%d %s</title><h1>%d %s</h1>\n",
		     status, reason(status), status, reason(status));
	start_response(w, c, status);
	if (status == 405)
		hdr(c, "Allow: GET, HEAD\r\n");
	hdr(c, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n", n);
	end_headers(c);
	if (c->req.method != HTTP_HEAD)
		hdr(c, "%s", body);
}

static int open_beneath(int dirfd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV |
			   (serve_cfg.symlinks == SYMLINKS_NONE ? RESOLVE_NO_SYMLINKS : 0),
	};

	return (int)syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof(how));
}

static int errno_status(int err)
{
	switch (err) {
	case ENOENT: case ENOTDIR: case ENAMETOOLONG:
		return 404;
	case EACCES: case EPERM: case EXDEV: case ELOOP:
		return 403;	/* includes symlinks leading out of the root */
	default:
		return 500;
	}
}

/* Long (~110 lines): the checks in the order HTTP wants them (method, path,
 * directory and index, conditionals, range), each ending the response. */
void serve_file_response(struct worker *w, struct conn *c)
{
	struct http_request *r = &c->req;
	char path[HTTP_MAX_TARGET + 16], etag[64], lm[32];
	uint64_t first = 0, last = 0;
	struct stat st;
	bool dir;
	int fd, st_code, range = 0;

	if (r->method == HTTP_OTHER) {
		/* its body, unread, would be taken for the next request */
		if (r->has_body)
			c->keep_alive = false;
		serve_error_response(w, c, 405);
		return;
	}
	if (r->has_body) {
		serve_error_response(w, c, 413);	/* GET and HEAD take no body here */
		return;
	}
	st_code = http_decode_path(&r->target, path, sizeof(path) - 16, &dir);
	if (st_code) {
		serve_error_response(w, c, st_code);
		return;
	}
	fd = open_beneath(serve_cfg.root_fd, path);
	if (fd < 0 || fstat(fd, &st)) {
		serve_error_response(w, c, errno_status(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		int idx;

		if (!dir) {		/* /dir -> /dir/, keeping the query */
			const char *t = r->target.p, *q = memchr(t, '?', r->target.len);
			size_t plen = q ? (size_t)(q - t) : r->target.len, skip = 0;

			/* one leading slash: "//host/x" would be a redirect
			 * to another site (a protocol-relative URL) */
			while (skip + 1 < plen && t[skip + 1] == '/')
				skip++;
			close(fd);
			start_response(w, c, 301);
			hdr(c, "Location: %.*s/%.*s\r\nContent-Length: 0\r\n", (int)(plen - skip),
			    t + skip, (int)(r->target.len - plen), t + plen);
			end_headers(c);
			return;
		}
		idx = open_beneath(fd, "index.html");
		close(fd);
		fd = idx;
		if (fd < 0 || fstat(fd, &st)) {
			/* no listings: a directory without index.html is not shown */
			serve_error_response(w, c, fd < 0 && errno == ENOENT ? 403 : errno_status(errno));
			if (fd >= 0)
				close(fd);
			return;
		}
		strcat(path, path[0] ? "/index.html" : "index.html");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		serve_error_response(w, c, 403);
		return;
	}

	snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec, (unsigned long long)st.st_mtim.tv_nsec);
	http_format_date(st.st_mtim.tv_sec, lm, sizeof(lm));
	if (r->if_none_match.len ? http_etag_match(&r->if_none_match, etag) :
	    r->if_modified_since.len && http_parse_date(&r->if_modified_since) >= 0 &&
	    st.st_mtim.tv_sec <= http_parse_date(&r->if_modified_since)) {
		close(fd);
		start_response(w, c, 304);
		hdr(c, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lm);
		end_headers(c);
		return;
	}
	if (r->range.len && (!r->if_range.len ||
			     (r->if_range.len == strlen(etag) &&
			      !memcmp(r->if_range.p, etag, r->if_range.len))))
		range = http_parse_range(&r->range, (uint64_t)st.st_size, &first, &last);
	if (range < 0) {
		close(fd);
		start_response(w, c, 416);
		hdr(c, "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
		    (unsigned long long)st.st_size);
		end_headers(c);
		return;
	}
	if (range == 0) {
		first = 0;
		last = st.st_size ? (uint64_t)st.st_size - 1 : 0;
	}
	start_response(w, c, range ? 206 : 200);
	hdr(c, "Content-Type: %s\r\nContent-Length: %llu\r\nLast-Modified: %s\r\nETag: %s\r\n"
	    "Accept-Ranges: bytes\r\n", http_content_type(path),
	    st.st_size ? (unsigned long long)(last - first + 1) : 0ULL, lm, etag);
	if (range)
		hdr(c, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)first,
		    (unsigned long long)last, (unsigned long long)st.st_size);
	end_headers(c);
	if (r->method == HTTP_HEAD || !st.st_size) {
		close(fd);
		return;
	}
	c->file = fd;
	c->off = (off_t)first;
	c->end = (off_t)last + 1;
}
