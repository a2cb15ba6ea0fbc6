/*
 * test-web.c - the parts of `cutover serve` that need no server: where it
 * listens (and whether that is loopback), the token file's rules, the
 * CSP hashes, and the metrics' text (families, label escaping, entity
 * states).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "web-auth.h"
#include "web-dash.h"
#include "web.h"

static int addr_ok(const char *, int *);
static int token_from(const char *, mode_t, char **, char **);

/* Parse spec: 0 with *loopback, or -1. */
static int
addr_ok(const char *spec, int *loopback)
{
	struct web_addr a;
	char *err = NULL;
	int rc = web_addr_parse(spec, &a, &err);

	if (rc == 0)
		*loopback = a.loopback;
	else
		assert_non_null(err);
	free(err);
	return rc;
}

static void
test_addr(void **state)
{
	struct web_addr a;
	char *err = NULL;
	int lo = -1;

	(void)state;
	assert_int_equal(addr_ok("127.0.0.1:8080", &lo), 0);
	assert_int_equal(lo, 1);
	assert_int_equal(addr_ok("127.9.9.9:0", &lo), 0);
	assert_int_equal(lo, 1);
	assert_int_equal(addr_ok("[::1]:8080", &lo), 0);
	assert_int_equal(lo, 1);
	assert_int_equal(addr_ok("localhost:8080", &lo), 0);
	assert_int_equal(lo, 1);
	assert_int_equal(addr_ok("0.0.0.0:8080", &lo), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(addr_ok("[::]:8080", &lo), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(addr_ok("[::ffff:127.0.0.1]:80", &lo), 0);
	assert_int_equal(lo, 1);
	assert_int_equal(addr_ok("[::ffff:10.0.0.1]:80", &lo), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(addr_ok("8080", &lo), -1);
	assert_int_equal(addr_ok(":8080", &lo), -1);
	assert_int_equal(addr_ok("127.0.0.1:", &lo), -1);
	assert_int_equal(addr_ok("127.0.0.1:65536", &lo), -1);
	assert_int_equal(addr_ok("127.0.0.1:80x", &lo), -1);
	assert_int_equal(addr_ok("::1:80", &lo), -1);
	assert_int_equal(addr_ok("[::1]80", &lo), -1);
	assert_int_equal(addr_ok("[::1:80", &lo), -1);
	assert_int_equal(web_addr_parse("[::1]:9", &a, &err), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 9);
}

/* Write text to a file of mode, read it as a token file. */
static int
token_from(const char *text, mode_t mode, char **token, char **err)
{
	char path[] = "/tmp/cutover-test-token.XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
	*err = NULL;
	rc = web_token_read(path, token, err);
	unlink(path);
	return rc;
}

static void
test_token(void **state)
{
	char *tok = NULL, *err = NULL;

	(void)state;
	assert_int_equal(token_from("  0123456789abcdef-x \nsecond\n", 0600, &tok,
	    &err), 0);
	assert_string_equal(tok, "0123456789abcdef-x");
	free(tok);
	assert_int_equal(token_from("0123456789abcdef\n", 0640, &tok, &err), -1);
	assert_non_null(strstr(err, "chmod 600"));
	free(err);
	assert_int_equal(token_from("short\n", 0600, &tok, &err), -1);
	assert_non_null(strstr(err, "at least 16"));
	free(err);
	assert_int_equal(token_from("0123456789abcdef with space\n", 0600, &tok,
	    &err), -1);
	free(err);
	assert_int_equal(token_from("", 0600, &tok, &err), -1);
	free(err);
	assert_int_equal(web_token_read("/nonexistent/token", &tok, &err), -1);
	assert_non_null(strstr(err, "/nonexistent/token"));
	free(err);
}

static void
test_host(void **state)
{
	(void)state;
	assert_true(web_host_loopback("localhost"));
	assert_true(web_host_loopback("LocalHost:8080"));
	assert_true(web_host_loopback("dash.localhost:80"));
	assert_true(web_host_loopback("127.0.0.1:8080"));
	assert_true(web_host_loopback("127.1.2.3"));
	assert_true(web_host_loopback("[::1]:8080"));
	assert_true(web_host_loopback("[::1]"));
	assert_false(web_host_loopback("localhost.attacker.example"));
	assert_false(web_host_loopback("127.0.0.1.attacker.example"));
	assert_false(web_host_loopback("attacker.example:8080"));
	assert_false(web_host_loopback("10.0.0.1:8080"));
	assert_false(web_host_loopback("[::2]:8080"));
	assert_false(web_host_loopback("[::1"));
	assert_false(web_host_loopback(""));
	assert_false(web_host_loopback(":8080"));
	assert_false(web_host_loopback("xlocalhost"));
}

static void
test_csp_hash(void **state)
{
	char h[64];

	(void)state;
	web_csp_hash("", 0, h, sizeof h);
	assert_string_equal(h,
	    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_non_null(strstr(web_dash_csp(), "script-src 'sha256-"));
	assert_null(strstr(web_dash_csp(), "unsafe-inline"));
}

static const char metrics_rb[] =
    "cutover: 1\n"
    "name: m\n"
    "entities:\n"
    "  - {id: e1}\n"
    "  - {id: e2}\n"
    "phases:\n"
    "  - id: a\n"
    "    steps:\n"
    "      - {id: one, type: manual, instructions: x, planned: 90s}\n"
    "  - id: lanes\n"
    "    for_each: entity\n"
    "    steps:\n"
    "      - {id: s, type: local, run: 'true'}\n";

static void
test_metrics(void **state)
{
	struct runbook *rb = NULL;
	struct diags d = { 0 };
	struct run_info run = { .id = 3, .mode = "live", .state = "open",
		.runbook = "m" };
	struct step_row rows[3];
	struct metrics_in in = { 0 };
	struct buf b = { 0 };
	char *line, *save, *copy;
	int families = 0;

	(void)state;
	assert_int_equal(runbook_load_buffer("m.yaml", metrics_rb,
	    sizeof metrics_rb - 1, &rb, &d), 0);
	memset(rows, 0, sizeof rows);
	rows[0].id = "one";
	rows[0].state = ST_AWAITING;
	rows[0].duration_ms = -1;
	rows[1].id = "s@e1";
	rows[1].state = ST_SUCCEEDED;
	rows[1].duration_ms = 1500;
	rows[2].id = "s@e2";
	rows[2].state = ST_RUNNING;
	rows[2].duration_ms = -1;
	in.rb = rb;
	in.store_ok = 1;
	in.run = &run;
	in.rows = rows;
	in.nrows = 3;
	metrics_write(&b, &in);
	assert_non_null(strstr(b.data, "cutover_run_live{runbook=\"m\"} 1\n"));
	assert_non_null(strstr(b.data,
	    "cutover_run_info{runbook=\"m\",run=\"3\",mode=\"live\","
	    "state=\"open\"} 1\n"));
	assert_non_null(strstr(b.data,
	    "cutover_steps{runbook=\"m\",state=\"awaiting\"} 1\n"));
	assert_non_null(strstr(b.data,
	    "cutover_step_awaiting{runbook=\"m\",step=\"one\",type=\"manual\"} 1\n"));
	/* e1 has every instance done, e2 one under way */
	assert_non_null(strstr(b.data,
	    "cutover_entities{runbook=\"m\",state=\"done\"} 1\n"));
	assert_non_null(strstr(b.data,
	    "cutover_entities{runbook=\"m\",state=\"active\"} 1\n"));
	assert_non_null(strstr(b.data,
	    "# TYPE cutover_notify_failures_total counter\n"));
	/* Every sample follows its family's TYPE line. */
	copy = strdup(b.data);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0)
			families++;
		else
			assert_true(line[0] == '#' || families > 0);
	}
	free(copy);
	assert_true(families >= 12);
	/* Label values are escaped as the format says. */
	buf_reset(&b);
	run.state = "a\"b\\c\nd";
	metrics_write(&b, &in);
	assert_non_null(strstr(b.data, "state=\"a\\\"b\\\\c\\nd\"} 1\n"));
	buf_free(&b);
	runbook_free(rb);
	diags_free(&d);
}

static const char dash_rb[] =
    "cutover: 1\n"
    "name: d\n"
    "title: \"Night <b>&\"\n"
    "entities:\n"
    "  - {id: e1, wave: pilot, title: Lyon}\n"
    "  - {id: e2, wave: pilot}\n"
    "phases:\n"
    "  - id: a\n"
    "    steps:\n"
    "      - {id: one, type: manual, instructions: x}\n"
    "  - id: lanes\n"
    "    for_each: entity\n"
    "    steps:\n"
    "      - {id: s, type: local, run: 'true'}\n"
    "      - {id: ok, type: checkpoint}\n";

/* The dashboard of a run with instances (STEP@ENTITY rows): LIVE, text
 * escaped, the per-step counts, the entity matrix, evidence per entity. */
static void
test_dash(void **state)
{
	static const char *ids[] = { "one", "s@e1", "s@e2", "ok@e1", "ok@e2" };
	static const enum step_state sts[] = { ST_SUCCEEDED, ST_SUCCEEDED,
		ST_FAILED, ST_AWAITING, ST_PENDING };
	/* ids in strcmp order, as report_find looks them up */
	static size_t by_id[] = { 3, 4, 0, 1, 2 };
	struct runbook *rb = NULL;
	struct diags d = { 0 };
	struct report_run r;
	struct buf b = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(runbook_load_buffer("d.yaml", dash_rb,
	    sizeof dash_rb - 1, &rb, &d), 0);
	memset(&r, 0, sizeof r);
	r.rb = rb;
	r.info.id = 2;
	r.info.state = "open";
	r.info.mode = "live";
	r.live = 1;
	r.start_ms = r.now_ms = 1800000000000;
	r.end_ms = r.rollback_start_ms = r.rollback_done_ms = -1;
	r.nsteps = 5;
	r.steps = calloc(r.nsteps, sizeof *r.steps);
	r.est = calloc(r.nsteps, sizeof *r.est);
	r.by_id = by_id;
	for (i = 0; i < r.nsteps; i++) {
		r.steps[i].row.id = (char *)ids[i];
		r.steps[i].row.state = sts[i];
		r.steps[i].row.duration_ms = -1;
		r.steps[i].def = runbook_find_step(rb, ids[i]);
		r.steps[i].start_ms = r.steps[i].end_ms = -1;
		r.steps[i].actual_ms = r.est[i].elapsed = -1;
	}
	web_dash_fragment(&b, rb, &r, NULL);
	assert_non_null(strstr(b.data, "<span class=\"mode\">LIVE</span>"));
	assert_non_null(strstr(b.data, "Night &lt;b&gt;&amp;"));
	assert_null(strstr(b.data, "<b>&"));
	assert_non_null(strstr(b.data, "data-step=\"one\" data-state=\"succeeded\""));
	assert_non_null(strstr(b.data, "data-step=\"s@e2\" data-state=\"failed\""));
	assert_non_null(strstr(b.data, "data-step=\"ok@e1\" data-state=\"awaiting\""));
	assert_non_null(strstr(b.data, "e1 <small>Lyon</small>"));
	assert_non_null(strstr(b.data, "1 succeeded</span> "));
	assert_non_null(strstr(b.data, "1 failed</span> "));
	/* ok@e1 rests on s@e1, ok@e2 on s@e2 */
	assert_non_null(strstr(b.data, "s@e1 succeeded"));
	assert_non_null(strstr(b.data, "s@e2 failed"));
	assert_non_null(strstr(b.data, "waits for a person"));
	buf_free(&b);
	free(r.steps);
	free(r.est);
	runbook_free(rb);
	diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_csp_hash),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_dash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
