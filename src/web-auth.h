/*
 * web-auth.h - who may read what `cutover serve` serves: the token a
 * request carries (header, query or cookie) and, without a token, the
 * Host it names. web.h says the rules; web_addr_parse and web_token_read
 * (declared there) are here too.
 */
#ifndef CUTOVER_WEB_AUTH_H
#define CUTOVER_WEB_AUTH_H

#include <microhttpd.h>

#include "sha256.h"

#define WEB_COOKIE "cutover_token"

struct web_auth {
	char *token;                      /* NULL: none needed */
	char cookie[SHA256_HEX_LEN + 1];  /* the cookie standing for it */
};

enum web_auth_verdict {
	WEB_AUTH_OK,
	WEB_AUTH_SET_COOKIE, /* right ?token=: redirect, setting the cookie */
	WEB_AUTH_NEEDED,     /* no token, or a wrong one: 401 */
	WEB_AUTH_BAD_HOST,   /* no token set and Host not loopback: 403 */
};

/* Set up a (token may be NULL; copied). */
void web_auth_init(struct web_auth *, const char *token);
void web_auth_free(struct web_auth *);
/* May connection c's request be answered? */
enum web_auth_verdict web_auth_check(const struct web_auth *,
    struct MHD_Connection *c);
/* Does the value of a Host header (a name or an address, maybe with a
 * port) name a loopback host: localhost, *.localhost, 127.0.0.0/8, ::1? */
int web_host_loopback(const char *host);
/* The Set-Cookie value for WEB_AUTH_SET_COOKIE (static storage). */
const char *web_auth_set_cookie(const struct web_auth *);

#endif
