/*
 * theme.c - theme files: parse, search, load.
 *
 * The format is line based so that a person can edit a theme on the night
 * with any editor, and an error points at its line:
 *
 *	# comment
 *	ELEMENT FOREGROUND BACKGROUND [ATTRIBUTE...]
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "theme.h"
#include "xmalloc.h"

#ifndef THEMEDIR
#define THEMEDIR "/usr/local/share/cutover/themes"
#endif

#define THEME_MAX_SIZE (256 * 1024)

#define THEME_NAME(e, n, fg, bg, a, m) n,
static const char *theme_names[] = { THEME_ELEMENTS(THEME_NAME) };
#undef THEME_NAME

static const char *theme_colors[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static const struct {
	const char *name;
	unsigned bit;
} theme_attrs[] = {
	{ "bold", THEME_BOLD },
	{ "dim", THEME_DIM },
	{ "underline", THEME_UNDERLINE },
	{ "reverse", THEME_REVERSE },
	{ "blink", THEME_BLINK },
	{ "italic", THEME_ITALIC },
	{ "normal", 0 },
};

static int theme_color(const char *, int *);
static int theme_attr(const char *, unsigned *);
static int theme_line(struct theme *, char *, char **);
static char *theme_read(const char *, char **);
static char *theme_find(const char *);

const char *
theme_element_name(enum theme_element el)
{
	if ((int)el < 0 || el >= THEME_NELEMENTS)
		return NULL;
	return theme_names[el];
}

int
theme_element_find(const char *name)
{
	int i;

	for (i = 0; i < THEME_NELEMENTS; i++) {
		if (strcmp(theme_names[i], name) == 0)
			return i;
	}
	return -1;
}

void
theme_builtin(struct theme *t)
{
#define THEME_DEFAULT(e, n, f, b, a, m)                                      \
	t->style[e].fg = (f);                                                \
	t->style[e].bg = (b);                                                \
	t->style[e].attrs = (a);                                             \
	t->style[e].mono = (m);
	THEME_ELEMENTS(THEME_DEFAULT)
#undef THEME_DEFAULT
	free(t->name);
	t->name = xstrdup("built-in");
}

void
theme_free(struct theme *t)
{
	free(t->name);
	t->name = NULL;
}

/* A colour word: default, a name, bright-NAME, colorN or N (0-255). */
static int
theme_color(const char *w, int *out)
{
	const char *p = w;
	char *end;
	long n;
	size_t i;
	int bright = 0;

	if (strcasecmp(w, "default") == 0 || strcmp(w, "-") == 0) {
		*out = THEME_DEFAULT_COLOR;
		return 0;
	}
	if (strncasecmp(p, "bright-", 7) == 0) {
		bright = 8;
		p += 7;
	}
	for (i = 0; i < sizeof theme_colors / sizeof theme_colors[0]; i++) {
		if (strcasecmp(p, theme_colors[i]) == 0) {
			*out = (int)i + bright;
			return 0;
		}
	}
	if (bright)
		return -1;
	if (strncasecmp(p, "color", 5) == 0)
		p += 5;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	n = strtol(p, &end, 10);
	if (*end != '\0' || errno != 0 || n > 255)
		return -1;
	*out = (int)n;
	return 0;
}

/* An attribute word. */
static int
theme_attr(const char *w, unsigned *bits)
{
	size_t i;

	for (i = 0; i < sizeof theme_attrs / sizeof theme_attrs[0]; i++) {
		if (strcasecmp(w, theme_attrs[i].name) == 0) {
			*bits |= theme_attrs[i].bit;
			return 0;
		}
	}
	return -1;
}

/* One line, comment stripped; sets *why (static text or allocated) on error. */
static int
theme_line(struct theme *t, char *line, char **why)
{
	char *w[16], *save = NULL, *tok;
	int n = 0, el, fg, bg, i;
	unsigned attrs = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == 16) {
			*why = xstrdup("too many words (at most 16)");
			return -1;
		}
		w[n++] = tok;
	}
	if (n == 0)
		return 0;
	if ((el = theme_element_find(w[0])) == -1) {
		xasprintf(why, "unknown element '%s'", w[0]);
		return -1;
	}
	if (n < 3) {
		xasprintf(why, "%s needs a foreground and a background colour",
		    w[0]);
		return -1;
	}
	if (theme_color(w[1], &fg) != 0 || theme_color(w[2], &bg) != 0) {
		xasprintf(why, "unknown colour '%s' (use default, a name such as "
		    "red or bright-red, or 0-255)", theme_color(w[1], &fg) != 0
		        ? w[1] : w[2]);
		return -1;
	}
	for (i = 3; i < n; i++) {
		if (theme_attr(w[i], &attrs) != 0) {
			xasprintf(why, "unknown attribute '%s' (bold, dim, "
			    "underline, reverse, blink, italic, normal)", w[i]);
			return -1;
		}
	}
	t->style[el].fg = fg;
	t->style[el].bg = bg;
	t->style[el].attrs = attrs;
	return 0;
}

int
theme_parse(struct theme *t, const char *file, const char *text, char **err)
{
	const char *p = text, *nl;
	char *line, *hash, *why = NULL;
	unsigned lineno = 0;
	int rc = 0;

	*err = NULL;
	while (*p != '\0' && rc == 0) {
		lineno++;
		nl = strchr(p, '\n');
		line = nl ? xstrndup(p, (size_t)(nl - p)) : xstrdup(p);
		p = nl ? nl + 1 : p + strlen(p);
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if (theme_line(t, line, &why) != 0) {
			xasprintf(err, "%s:%u: error: %s", file, lineno, why);
			free(why);
			rc = -1;
		}
		free(line);
	}
	return rc;
}

/* Read a whole (small) file; NULL with *err set. */
static char *
theme_read(const char *path, char **err)
{
	FILE *f;
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(err, "%s:0: error: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > THEME_MAX_SIZE)
			break;
	}
	fclose(f);
	if (b.len > THEME_MAX_SIZE) {
		xasprintf(err, "%s:0: error: larger than %d bytes", path,
		    THEME_MAX_SIZE);
		buf_free(&b);
		return NULL;
	}
	if (memchr(buf_str(&b), '\0', b.len) != NULL) {
		xasprintf(err, "%s:0: error: not a text file", path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

char *
theme_path(void)
{
	const char *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	/* Never the working directory: a theme there is whoever wrote it. */
	if (cfg != NULL && *cfg == '/')
		return xprintf("%s/cutover/themes:%s", cfg, THEMEDIR);
	if (home != NULL && *home == '/')
		return xprintf("%s/.config/cutover/themes:%s", home, THEMEDIR);
	return xstrdup(THEMEDIR);
}

/* The file of theme name in the search path, or NULL. */
static char *
theme_find(const char *name)
{
	char *path = theme_path(), *dir, *save = NULL, *file;
	struct stat sb;

	for (dir = strtok_r(path, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save)) {
		file = xprintf("%s/%s.theme", dir, name);
		if (stat(file, &sb) == 0 && S_ISREG(sb.st_mode)) {
			free(path);
			return file;
		}
		free(file);
	}
	free(path);
	return NULL;
}

int
theme_load(struct theme *t, const char *spec, char **err)
{
	char *file, *text, *path;
	size_t len;
	int rc;

	*err = NULL;
	theme_builtin(t);
	if (spec == NULL || *spec == '\0')
		spec = getenv("CUTOVER_THEME");
	if (spec == NULL || *spec == '\0')
		spec = "default";
	len = strlen(spec);
	if (strchr(spec, '/') != NULL ||
	    (len > 6 && strcmp(spec + len - 6, ".theme") == 0))
		file = xstrdup(spec);
	else if ((file = theme_find(spec)) == NULL) {
		if (strcmp(spec, "default") == 0)
			return 0;
		path = theme_path();
		xasprintf(err, "cutover: no theme named '%s' (looked for "
		    "%s.theme in %s)", spec, spec, path);
		free(path);
		return -1;
	}
	if ((text = theme_read(file, err)) == NULL) {
		free(file);
		return -1;
	}
	rc = theme_parse(t, file, text, err);
	free(text);
	free(t->name);
	t->name = file;
	return rc;
}
