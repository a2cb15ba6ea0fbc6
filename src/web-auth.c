/*
 * web-auth.c - where `cutover serve` listens, its token, and whether a
 * request may be answered (web-auth.h, web.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web-auth.h"
#include "web.h"
#include "xmalloc.h"

#define TOKEN_MIN 16
#define TOKEN_FILE_MAX 4096

static int addr_split(const char *, char *, size_t, char *, size_t);
static int addr_loopback(const struct sockaddr *);
static int token_equal(const char *, const char *);

/* HOST:PORT or [HOST]:PORT into host and port; -1 if malformed. */
static int
addr_split(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *end;

	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || end[1] != ':')
			return -1;
		colon = end + 1;
		spec++;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    memchr(spec, ':', (size_t)(colon - spec)) != NULL)
			return -1;
		end = colon;
	}
	if (end == spec || (size_t)(end - spec) >= hlen ||
	    strlen(colon + 1) >= plen || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strtol(colon + 1, NULL, 10) > 65535)
		return -1;
	memcpy(host, spec, (size_t)(end - spec));
	host[end - spec] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/* Is sa on the loopback network (127.0.0.0/8, ::1, ::ffff:127.x)? */
static int
addr_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const unsigned char *b;

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >>
		    24) == 127;
	if (sa->sa_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return 1;
	b = s6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
}

int
web_addr_parse(const char *spec, struct web_addr *a, char **err)
{
	struct addrinfo hints, *res = NULL;
	char host[256], port[8];
	int rc;

	memset(a, 0, sizeof *a);
	if (addr_split(spec, host, sizeof host, port, sizeof port) != 0) {
		xasprintf(err, "--listen %s: want HOST:PORT (an IPv6 address "
		    "as [ADDRESS]:PORT, a port up to 65535)", spec);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(err, "--listen %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	a->loopback = addr_loopback(res->ai_addr);
	a->port = atoi(port);
	if (getnameinfo(res->ai_addr, res->ai_addrlen, a->host, sizeof a->host,
	        NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(a->host, sizeof a->host, "%.63s", host);
	freeaddrinfo(res);
	return 0;
}

int
web_token_read(const char *path, char **token, char **err)
{
	char buf[TOKEN_FILE_MAX + 1], *s, *e, *t;
	struct stat sb;
	ssize_t n;
	int fd;

	*token = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &sb) != 0) {
		xasprintf(err, "--token-file %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
		xasprintf(err, "--token-file %s: %s", path, !S_ISREG(sb.st_mode)
		    ? "not a regular file" : "others may read it; chmod 600 it");
		close(fd);
		return -1;
	}
	n = read(fd, buf, TOKEN_FILE_MAX);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (s = buf; *s == ' ' || *s == '\t'; s++)
		;
	for (e = s; *e > ' ' && *e < 0x7f; e++)
		;
	for (t = e; *t == ' ' || *t == '\t'; t++)
		;
	if (e - s < TOKEN_MIN || (*t != '\0' && *t != '\n' && *t != '\r')) {
		xasprintf(err, "--token-file %s: the first line must be a token "
		    "of at least %d printable characters, without spaces", path,
		    TOKEN_MIN);
		return -1;
	}
	*token = xstrndup(s, (size_t)(e - s));
	return 0;
}

void
web_auth_init(struct web_auth *a, const char *token)
{
	char *salted;

	memset(a, 0, sizeof *a);
	if (token == NULL)
		return;
	a->token = xstrdup(token);
	/* The cookie stands for the token without being it. */
	salted = xprintf("cutover serve cookie\n%s", token);
	sha256_hex(salted, strlen(salted), a->cookie);
	free(salted);
}

void
web_auth_free(struct web_auth *a)
{
	free(a->token);
	a->token = NULL;
}

/* Are a and b the same text? Compared in time that does not depend on
 * where they differ (their hashes, of equal length). */
static int
token_equal(const char *a, const char *b)
{
	char ha[SHA256_HEX_LEN + 1], hb[SHA256_HEX_LEN + 1];

	if (a == NULL || b == NULL)
		return 0;
	sha256_hex(a, strlen(a), ha);
	sha256_hex(b, strlen(b), hb);
	return CRYPTO_memcmp(ha, hb, SHA256_HEX_LEN) == 0;
}

int
web_host_loopback(const char *h)
{
	char host[256];
	struct in_addr in;
	struct in6_addr in6;
	const char *end;
	size_t n;

	if (h[0] == '[') {
		if ((end = strchr(++h, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			return 0;
	} else
		end = strchr(h, ':');
	n = end != NULL ? (size_t)(end - h) : strlen(h);
	if (n == 0 || n >= sizeof host)
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0 ||
	    (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0))
		return 1;
	if (inet_pton(AF_INET, host, &in) == 1)
		return (ntohl(in.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &in6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&in6);
}

enum web_auth_verdict
web_auth_check(const struct web_auth *a, struct MHD_Connection *c)
{
	const char *h;

	if (a->token == NULL) {
		h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
		return h == NULL || web_host_loopback(h) ? WEB_AUTH_OK
		                                     : WEB_AUTH_BAD_HOST;
	}
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0 &&
	    token_equal(h + 7, a->token))
		return WEB_AUTH_OK;
	h = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_COOKIE);
	if (h != NULL && token_equal(h, a->cookie))
		return WEB_AUTH_OK;
	h = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (token_equal(h, a->token))
		return WEB_AUTH_SET_COOKIE;
	return WEB_AUTH_NEEDED;
}

const char *
web_auth_set_cookie(const struct web_auth *a)
{
	static char v[160];

	snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict",
	    WEB_COOKIE, a->cookie);
	return v;
}
