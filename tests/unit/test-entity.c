/*
 * test-entity.c - entities and waves in the runbook: the CSV reader, the
 * model (inline and from a file), errors at their place in the CSV file,
 * the runbook's hash over the file, instance names and ${entity.*}.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "csv.h"
#include "expand.h"
#include "runbook.h"
#include "sha256.h"

static char dir[] = "/tmp/test-entity.XXXXXX";

static const char inline_rb[] =
	"cutover: 1\n"
	"name: stores\n"
	"settings: {parallel: 3}\n"
	"entities:\n"
	"  - {id: store-017, wave: pilot, title: Lyon Part-Dieu,\n"
	"     vars: {pos_host: 10.17.0.5, warehouse: LYO}}\n"
	"  - {id: store-042, wave: wave-2, vars: {pos_host: 10.42.0.5, "
	"warehouse: MRS}}\n"
	"  - {id: store-001, vars: {pos_host: 10.1.0.5, warehouse: \"\"}}\n"
	"waves: [pilot, wave-2, wave-3]\n"
	"roles: {managers: [alice]}\n"
	"targets:\n"
	"  pos: {type: ssh, host: \"${entity.pos_host}\", user: pos}\n"
	"phases:\n"
	"  - id: before\n"
	"    steps:\n"
	"      - {id: freeze, type: local, run: \"true\"}\n"
	"  - id: store-switch\n"
	"    for_each: entity\n"
	"    parallel: 8\n"
	"    steps:\n"
	"      - {id: ready, type: local, run: \"test ${entity.warehouse}\",\n"
	"         on_failure: exclude-entity}\n"
	"      - {id: pos-freeze, type: ssh, target: pos, run: pos-ctl freeze}\n"
	"      - {id: store-go, type: checkpoint, approvers: [managers],\n"
	"         on_no_go: rollback, evidence: [ready, freeze]}\n"
	"  - id: wave\n"
	"    for_each: entity\n"
	"    steps:\n"
	"      - {id: tell, type: manual, instructions: \"${entity.title}\"}\n";

/* Write text to dir/name; returns the path (static, until the next call). */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

/* A runbook in dir whose entities are in stores.csv (csv, len bytes). */
static char *
csv_runbook(const char *csv, size_t len)
{
	static const char rb[] =
		"cutover: 1\n"
		"name: csv\n"
		"entities: {file: stores.csv}\n"
		"phases:\n"
		"  - id: p\n"
		"    for_each: entity\n"
		"    steps:\n"
		"      - {id: s, type: local, run: \"echo ${entity.id}\"}\n";

	write_file("stores.csv", csv, len);
	return strdup(write_file("csv.yaml", rb, sizeof rb - 1));
}

/* ------------------------------------------------------- the reader */

struct rows {
	char text[1024]; /* "v|v|v;" per record, "v@line:col" */
};

static int
rows_add(const struct csv_field *f, size_t n, void *arg)
{
	struct rows *r = arg;
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(r->text + strlen(r->text), sizeof r->text -
		    strlen(r->text), "%s%s@%u:%u", i ? "|" : "", f[i].value,
		    f[i].line, f[i].col);
	}
	strcat(r->text, ";");
	return 0;
}

/* Parse text; the records as rows_add writes them, or "ERR line:col msg". */
static const char *
parse(const char *text, size_t len)
{
	static struct rows r;
	struct csv_error err;

	memset(&r, 0, sizeof r);
	if (csv_parse(text, len, rows_add, &r, &err) != 0) {
		snprintf(r.text, sizeof r.text, "ERR %u:%u %s", err.line,
		    err.col, err.msg);
	}
	return r.text;
}

#define PARSE(s) parse(s, sizeof(s) - 1)

static void
test_csv_reader(void **state)
{
	(void)state;
	assert_string_equal(PARSE(""), "");
	assert_string_equal(PARSE("a,b\n1,2\n"), "a@1:1|b@1:3;1@2:1|2@2:3;");
	assert_string_equal(PARSE("a,b\r\n1,2"), "a@1:1|b@1:3;1@2:1|2@2:3;");
	/* quoted: commas, "" escapes, line breaks, CRLF kept inside */
	assert_string_equal(PARSE("\"a,b\",\"say \"\"hi\"\"\"\n"),
	    "a,b@1:1|say \"hi\"@1:7;");
	assert_string_equal(PARSE("\"two\r\nlines\",x\r\ny,z\r\n"),
	    "two\r\nlines@1:1|x@2:8;y@3:1|z@3:3;");
	/* empty fields, empty lines skipped, an empty quoted field kept */
	assert_string_equal(PARSE("a,,\n\n\r\n\"\"\n"),
	    "a@1:1|@1:3|@1:4;@4:1;");
	/* a byte order mark is skipped; columns count characters */
	assert_string_equal(PARSE("\xef\xbb\xbfid,\xc3\xa9t\xc3\xa9,x\n"),
	    "id@1:1|\xc3\xa9t\xc3\xa9@1:4|x@1:8;");
	/* errors, where they are */
	assert_string_equal(PARSE("a,b\"c\n"), "ERR 1:4 a quote inside an "
	    "unquoted field (quote the whole field and double the quote)");
	assert_string_equal(PARSE("a\n\"open,x\ny\n"),
	    "ERR 2:1 a quoted field is not closed");
	assert_string_equal(PARSE("\"a\"b\n"), "ERR 1:4 a character after "
	    "a closing quote (expected a comma or the end of the line)");
	assert_string_equal(PARSE("a\rb\n"),
	    "ERR 1:2 a carriage return not followed by a line feed");
	assert_string_equal(PARSE("a\r"),
	    "ERR 1:2 a carriage return not followed by a line feed");
	assert_string_equal(PARSE("ok\nx\xe9y\n"),
	    "ERR 2:2 invalid UTF-8 (save the file as UTF-8)");
	assert_string_equal(PARSE("ok\n\xed\xa0\x80\n"),
	    "ERR 2:1 invalid UTF-8 (save the file as UTF-8)");
	assert_string_equal(PARSE("\xc0\xaf"),
	    "ERR 1:1 invalid UTF-8 (save the file as UTF-8)");
	assert_string_equal(PARSE("a\0b"), "ERR 1:2 a NUL byte");
	/* runs of a plain or a quoted field, read at once, count columns
	 * by character and stop where the table must decide */
	assert_string_equal(PARSE("\xc3\xa9\xc3\xa9" "b\"\n"), "ERR 1:4 a "
	    "quote inside an unquoted field (quote the whole field and double "
	    "the quote)");
	assert_string_equal(PARSE("\"\xc3\xa9,\xc3\xa9\"x\n"), "ERR 1:6 a "
	    "character after a closing quote (expected a comma or the end of "
	    "the line)");
	assert_string_equal(PARSE("\"a\rb\nc\",d\n"), "a\rb\nc@1:1|d@2:4;");
}

static int
stop_at_two(const struct csv_field *f, size_t n, void *arg)
{
	(void)f;
	(void)n;
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void
test_csv_limits(void **state)
{
	struct csv_error err;
	char *wide = malloc(CSV_MAX_FIELDS * 2 + 2);
	int count = 0;
	size_t i;

	(void)state;
	/* the callback stops the reading and its value is returned */
	assert_int_equal(csv_parse("a\nb\nc\n", 6, stop_at_two, &count,
	    &err), 7);
	assert_int_equal(count, 2);
	for (i = 0; i < CSV_MAX_FIELDS; i++)
		memcpy(wide + 2 * i, "x,", 2);
	wide[2 * CSV_MAX_FIELDS - 1] = '\n';
	assert_int_equal(csv_parse(wide, 2 * CSV_MAX_FIELDS, stop_at_two,
	    &count, &err), 0);
	wide[2 * CSV_MAX_FIELDS - 1] = ',';
	wide[2 * CSV_MAX_FIELDS] = 'y';
	assert_int_equal(csv_parse(wide, 2 * CSV_MAX_FIELDS + 1, stop_at_two,
	    &count, &err), -1);
	assert_string_equal(err.msg, "more than 1024 fields in a record");
	assert_int_equal(err.col, 2 * CSV_MAX_FIELDS + 1);
	free(wide);
}

/* -------------------------------------------------------- the model */

static struct runbook *
load_inline(void)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;

	if (runbook_load_buffer("inline.yaml", inline_rb, sizeof inline_rb - 1,
	    &rb, &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("inline runbook did not load");
	}
	diags_free(&d);
	return rb;
}

static void
test_inline_model(void **state)
{
	struct runbook *rb = load_inline();
	struct rb_entity *e;
	struct rb_step *s;

	(void)state;
	assert_int_equal(rb->nentities, 3);
	assert_null(rb->entities_file);
	e = runbook_entity_find(rb, "store-017");
	assert_ptr_equal(e, &rb->entities[0]);
	assert_string_equal(e->title, "Lyon Part-Dieu");
	assert_string_equal(e->wave, "pilot");
	assert_int_equal(e->nvars, 2);
	assert_string_equal(runbook_entity_var(e, "warehouse"), "LYO");
	assert_string_equal(runbook_entity_var(e, "id"), "store-017");
	assert_null(runbook_entity_var(e, "nope"));
	e = runbook_entity_find(rb, "store-001");
	assert_ptr_equal(e, &rb->entities[2]);
	assert_null(e->wave);
	assert_null(e->title);
	assert_string_equal(runbook_entity_var(e, "title"), "");
	assert_string_equal(runbook_entity_var(e, "warehouse"), "");
	assert_null(runbook_entity_find(rb, "store-999"));
	assert_null(runbook_entity_find(rb, "store-0"));

	assert_int_equal(rb->waves_given, 1);
	assert_int_equal(rb->nwaves, 3);
	assert_int_equal(runbook_wave_index(rb, "wave-2"), 1);
	assert_int_equal(runbook_wave_index(rb, "wave-3"), 2);
	assert_int_equal(runbook_wave_index(rb, "wave-4"), -1);
	assert_int_equal(runbook_wave_index(rb, NULL), -1);

	assert_true(runbook_has_lanes(rb));
	assert_int_equal(rb->phases[0].for_each, 0);
	assert_int_equal(rb->phases[0].parallel, 3); /* settings.parallel */
	assert_int_equal(rb->phases[1].for_each, 1);
	assert_int_equal(rb->phases[1].parallel, 8);
	assert_int_equal(rb->phases[2].parallel, 3);
	s = runbook_find_step(rb, "ready");
	assert_int_equal(s->on_failure, RB_ON_FAILURE_EXCLUDE_ENTITY);
	assert_int_equal(runbook_find_step(rb, "pos-freeze")->on_failure,
	    RB_ON_FAILURE_HALT);
	s = runbook_find_step(rb, "store-go");
	assert_int_equal(s->on_no_go, RB_ON_NO_GO_ROLLBACK);
	assert_int_equal(s->nevidence, 2);
	assert_string_equal(s->evidence[1], "freeze");
	runbook_free(rb);
}

/* Runbooks without entities: nothing of them in the model. */
static void
test_no_entities(void **state)
{
	static const char text[] =
		"cutover: 1\nname: plain\nsettings: {parallel: 2}\n"
		"phases:\n  - id: p\n    steps:\n"
		"      - {id: s, type: checkpoint}\n";
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	char sha[65];

	(void)state;
	assert_int_equal(runbook_load_buffer("plain.yaml", text,
	    sizeof text - 1, &rb, &d), 0);
	assert_int_equal(rb->nentities, 0);
	assert_int_equal(rb->nwaves, 0);
	assert_null(rb->entity_index);
	assert_false(runbook_has_lanes(rb));
	assert_int_equal(rb->phases[0].parallel, 2);
	assert_int_equal(rb->steps[0].on_no_go, RB_ON_NO_GO_HALT);
	assert_int_equal(rb->steps[0].nevidence, 0);
	assert_null(runbook_entity_find(rb, "x"));
	sha256_hex(text, sizeof text - 1, sha);
	assert_string_equal(rb->sha256, sha);
	runbook_free(rb);
}

static const char stores_csv[] =
	"\xef\xbb\xbf" "id,wave,title,pos_host,note\r\n"
	"store-001,pilot,\"Lyon, Part-Dieu\",10.0.0.1,\"two\r\nlines\"\r\n"
	"store-002,,,10.0.0.2,\"say \"\"hi\"\"\"\r\n"
	"\r\n"
	"store-003,wave-2,Montr\xc3\xa9" "al,10.0.0.3,\r\n"
	"store-004,pilot,,10.0.0.4,x\r\n";

static void
test_csv_model(void **state)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	struct rb_entity *e;
	char *path = csv_runbook(stores_csv, sizeof stores_csv - 1);
	char want[512];

	(void)state;
	assert_int_equal(runbook_load(path, &rb, &d), 0);
	snprintf(want, sizeof want, "%s/stores.csv", dir);
	assert_string_equal(rb->entities_file, want);
	assert_int_equal(rb->nentities, 4);
	e = &rb->entities[0];
	assert_string_equal(e->id, "store-001");
	assert_string_equal(e->title, "Lyon, Part-Dieu");
	assert_int_equal(e->nvars, 2);
	assert_string_equal(e->vars[0].name, "pos_host");
	assert_string_equal(runbook_entity_var(e, "note"), "two\r\nlines");
	assert_int_equal(e->pos.line, 2);
	e = runbook_entity_find(rb, "store-002");
	assert_null(e->wave);
	assert_null(e->title);
	assert_string_equal(runbook_entity_var(e, "note"), "say \"hi\"");
	e = runbook_entity_find(rb, "store-003");
	assert_string_equal(e->title, "Montr\xc3\xa9" "al");
	assert_string_equal(runbook_entity_var(e, "note"), "");
	assert_int_equal(e->pos.line, 6);
	/* no waves: given: the waves in the order they first appear */
	assert_int_equal(rb->waves_given, 0);
	assert_int_equal(rb->nwaves, 2);
	assert_string_equal(rb->waves[0], "pilot");
	assert_string_equal(rb->waves[1], "wave-2");
	runbook_free(rb);
	assert_int_equal(runbook_check(path, &d), 0);
	free(path);
}

/* The runbook's hash covers the entities file: text, NUL, file. */
static void
test_csv_hash(void **state)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	struct sha256_ctx *c;
	char *path, first[65], want[65];

	(void)state;
	path = csv_runbook("id\ns1\n", 6);
	assert_int_equal(runbook_load(path, &rb, &d), 0);
	strcpy(first, rb->sha256);
	c = sha256_begin();
	sha256_add(c, rb->text, rb->textlen);
	sha256_add(c, "", 1);
	sha256_add(c, "id\ns1\n", 6);
	sha256_end(c, want);
	assert_string_equal(first, want);
	sha256_hex(rb->text, rb->textlen, want);
	assert_string_not_equal(first, want);
	runbook_free(rb);
	free(path);

	path = csv_runbook("id\ns2\n", 6); /* same runbook, other file */
	assert_int_equal(runbook_load(path, &rb, &d), 0);
	assert_string_not_equal(rb->sha256, first);
	runbook_free(rb);
	free(path);
}

/* Load path, which must fail; the first error must be file:line:col msg. */
static void
assert_error(const char *path, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	size_t i;

	assert_int_equal(runbook_load(path, &rb, &d), -1);
	for (i = 0; i < d.n; i++) {
		if (strcmp(d.v[i].msg, msg) == 0)
			break;
	}
	if (i == d.n) {
		diags_print(&d, stderr);
		fail_msg("no error '%s'", msg);
	}
	assert_true(strstr(d.v[i].file, file) != NULL);
	assert_int_equal(d.v[i].line, line);
	assert_int_equal(d.v[i].col, col);
	diags_free(&d);
}

#define CSV_ERR(csv, line, col, msg)                                     \
	do {                                                             \
		char *p_ = csv_runbook(csv, sizeof(csv) - 1);            \
		assert_error(p_, "stores.csv", line, col, msg);          \
		free(p_);                                                \
	} while (0)

static void
test_csv_errors(void **state)
{
	char path[512];

	(void)state;
	CSV_ERR("wave,name\nw,n\n", 1, 1, "the header has no 'id' column "
	    "(the first row names the columns)");
	CSV_ERR("id,city\n,Lyon\n", 2, 1, "the row has no id");
	CSV_ERR("city,id\nLyon,s1\nNice,s2\nParis,\"s1\"\n", 4, 7,
	    "duplicate entity id 's1' (first at line 2)");
	CSV_ERR("id\nStore 1\n", 2, 1, "'Store 1' is not a valid entity id "
	    "(use [a-z0-9][a-z0-9._-]*)");
	CSV_ERR("id\ns1@x\n", 2, 1, "'s1@x' is not a valid entity id "
	    "(use [a-z0-9][a-z0-9._-]*)");
	CSV_ERR("id,city\ns1,Lyon\ns2\n", 3, 1,
	    "a row of 1 fields; the header has 2");
	CSV_ERR("id,city\ns1,Lyon,x\n", 2, 1,
	    "a row of 3 fields; the header has 2");
	CSV_ERR("id,city\ns1,\xff\n", 2, 4,
	    "invalid UTF-8 (save the file as UTF-8)");
	CSV_ERR("id,city,city\ns1,a,b\n", 1, 9,
	    "duplicate column 'city' (first in column 2)");
	CSV_ERR("id,,x\ns1,a,b\n", 1, 4, "column 2 has no name");
	CSV_ERR("id,wave\ns1,Pilot\n", 2, 4,
	    "'Pilot' is not a valid wave (use [a-z0-9][a-z0-9._-]*)");
	CSV_ERR("id,note\ns1,\"open\n", 2, 4, "a quoted field is not closed");
	/* a missing file: at the file: key of the runbook */
	snprintf(path, sizeof path, "%s/stores.csv", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/csv.yaml", dir);
	assert_error(path, "csv.yaml", 3, 18, "entities: cannot read "
	    "'stores.csv': No such file or directory");
}

/* Errors of the runbook itself about entities and for_each. */
static void
test_lane_errors(void **state)
{
	static const char text[] =
		"cutover: 1\nname: lanes\n"
		"vars: {where: \"${entity.id}\"}\n"
		"entities: [{id: s1, wave: w1, vars: {a: 1}}, {id: s2}]\n"
		"waves: [w0]\n"
		"phases:\n"
		"  - id: p\n"
		"    steps:\n"
		"      - {id: x, type: local, run: \"${entity.id}\",\n"
		"         on_failure: exclude-entity}\n"
		"  - id: q\n"
		"    for_each: entity\n"
		"    steps:\n"
		"      - {id: y, type: local, run: \"${entity.a} ${entity.b}\"}\n"
		"      - {id: z, type: checkpoint, evidence: [nope]}\n";
	static const char *const want[] = {
		"3:${entity.id} outside a for_each phase (it is known only in "
		"the steps of phases with 'for_each: entity' and in their "
		"targets)",
		"4:entity 's1': wave 'w1' is not listed in waves",
		"9:${entity.id} outside a for_each phase (it is known only in "
		"the steps of phases with 'for_each: entity' and in their "
		"targets)",
		"10:on_failure: exclude-entity: only in steps of phases with "
		"'for_each: entity'",
		"14:entity var ${entity.a}: 1 of 2 entities have no such var",
		"14:unknown entity var ${entity.b}",
		"15:unknown step 'nope' in evidence",
	};
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	FILE *null;
	size_t i;

	(void)state;
	assert_int_equal(runbook_load_buffer("lanes.yaml", text,
	    sizeof text - 1, &rb, &d), -1);
	null = fopen("/dev/null", "w");
	diags_print(&d, null); /* sorts */
	fclose(null);
	for (i = 0; i < d.n && i < sizeof want / sizeof want[0]; i++) {
		char got[512];

		snprintf(got, sizeof got, "%u:%s", d.v[i].line, d.v[i].msg);
		assert_string_equal(got, want[i]);
	}
	assert_int_equal(d.n, sizeof want / sizeof want[0]);
	diags_free(&d);
}

/* ------------------------------------------ instances and expansion */

static void
test_instance_parse(void **state)
{
	char *s, *e;

	(void)state;
	assert_int_equal(runbook_instance_parse("pos-freeze@store-017", &s,
	    &e), 1);
	assert_string_equal(s, "pos-freeze");
	assert_string_equal(e, "store-017");
	free(s);
	free(e);
	assert_int_equal(runbook_instance_parse("pos-freeze", &s, &e), 0);
	assert_string_equal(s, "pos-freeze");
	assert_null(e);
	free(s);
	assert_int_equal(runbook_instance_parse("@store", &s, &e), -1);
	assert_int_equal(runbook_instance_parse("step@", &s, &e), -1);
	assert_int_equal(runbook_instance_parse("a@b@c", &s, &e), -1);
	assert_int_equal(runbook_instance_parse("Step@s1", &s, &e), -1);
	assert_int_equal(runbook_instance_parse("", &s, &e), -1);
}

static void
test_expand_entity(void **state)
{
	struct runbook *rb = load_inline();
	const struct rb_entity *e = runbook_entity_find(rb, "store-017");
	char *out, *err;

	(void)state;
	out = expand_text_entity(rb, e, "${entity.id} ${entity.title} "
	    "${entity.wave} ${entity.pos_host} $${entity.id}", &err);
	assert_string_equal(out, "store-017 Lyon Part-Dieu pilot 10.17.0.5 "
	    "${entity.id}");
	free(out);
	e = runbook_entity_find(rb, "store-001");
	out = expand_text_entity(rb, e, "[${entity.wave}${entity.title}]",
	    &err);
	assert_string_equal(out, "[]");
	free(out);
	assert_null(expand_text_entity(rb, e, "${entity.nope}", &err));
	assert_string_equal(err, "entity store-001 has no var nope");
	free(err);
	assert_null(expand_text(rb, "x ${entity.id}", &err));
	assert_string_equal(err, "${entity.id} outside a for_each phase");
	free(err);
	assert_null(expand_text_entity(rb, NULL, "${entity.id}", &err));
	free(err);
	runbook_free(rb);
}

/* A var named entity.x in a runbook without entities is still a var. */
static void
test_entity_var_compat(void **state)
{
	static const char text[] =
		"cutover: 1\nname: old\nvars: {entity.x: value}\n"
		"phases:\n  - id: p\n    steps:\n"
		"      - {id: s, type: local, run: \"echo ${entity.x}\"}\n";
	static const char with[] =
		"cutover: 1\nname: new\nvars: {entity.x: value}\n"
		"entities: [{id: s1, vars: {x: 1}}]\n"
		"phases:\n  - id: p\n    steps:\n"
		"      - {id: s, type: local, run: \"echo\"}\n";
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	char *out, *err;

	(void)state;
	assert_int_equal(runbook_load_buffer("old.yaml", text,
	    sizeof text - 1, &rb, &d), 0);
	out = expand_text(rb, rb->steps[0].run, &err);
	assert_string_equal(out, "echo value");
	free(out);
	runbook_free(rb);
	assert_int_equal(runbook_load_buffer("new.yaml", with,
	    sizeof with - 1, &rb, &d), -1);
	assert_string_equal(d.v[0].msg, "variable name 'entity.x' is "
	    "reserved: ${entity.*} names the entity's fields and vars");
	diags_free(&d);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_reader),
		cmocka_unit_test(test_csv_limits),
		cmocka_unit_test(test_inline_model),
		cmocka_unit_test(test_no_entities),
		cmocka_unit_test(test_csv_model),
		cmocka_unit_test(test_csv_hash),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_lane_errors),
		cmocka_unit_test(test_instance_parse),
		cmocka_unit_test(test_expand_entity),
		cmocka_unit_test(test_entity_var_compat),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
