/* test-runbook.c - the runbook loader: model, defaults, deps, hashes, errors. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify-event.h"
#include "runbook.h"
#include "step-kind.h"
#include "sha256.h"

#define MIN (60 * 1000LL)

/* The example of SPEC section 3, verbatim (tests/runbooks/good). */
static const char spec_example[] =
	"cutover: 1                       # format version, required\n"
	"name: retail-wave1               # [a-z0-9][a-z0-9._-]*, required\n"
	"title: Legacy ERP to Odoo 17, retail wave 1\n"
	"description: free text\n"
	"vars:                            # ${name} anywhere in text fields\n"
	"  batch_unit: legacy-batch.service\n"
	"  legacy_pw: ${env:LEGACY_PW}    # ${env:NAME}: read from the environment when used\n"
	"secrets: [legacy_pw]             # values never stored, shown, logged or reported\n"
	"roles:                           # optional: who may decide what\n"
	"  duty-manager: [alice, bob]\n"
	"settings:\n"
	"  parallel: 4                    # steps running at once, default 1\n"
	"  default_timeout: 10m           # default 10m\n"
	"  shell: /bin/sh                 # for local steps\n"
	"  rollback_roles: [duty-manager] # who may roll back a live run; default: anyone\n"
	"targets:\n"
	"  legacy_app: {type: ssh, host: 10.0.0.4, port: 22, user: ops,\n"
	"               identity: ~/.ssh/cutover_ed25519, known_hosts: ~/.ssh/known_hosts}\n"
	"  legacy_db:  {type: postgres, conninfo: \"service=legacy\"}\n"
	"  odoo_db:    {type: postgres, conninfo: \"host=odoo-db dbname=odoo user=cutover\"}\n"
	"phases:\n"
	"  - id: freeze\n"
	"    title: Freeze legacy writes\n"
	"    steps:\n"
	"      - id: announce-freeze\n"
	"        type: manual\n"
	"        owner: store-ops\n"
	"        instructions: Post the freeze notice to all stores and wait for their acks.\n"
	"        planned: 10m\n"
	"      - id: stop-batch\n"
	"        type: ssh\n"
	"        target: legacy_app\n"
	"        run: sudo systemctl stop ${batch_unit}\n"
	"        verify: \"! systemctl is-active --quiet ${batch_unit}\"\n"
	"        rollback: sudo systemctl start ${batch_unit}\n"
	"        timeout: 2m\n"
	"        retries: 2\n"
	"        planned: 2m\n"
	"  - id: reconcile\n"
	"    steps:\n"
	"      - id: partners\n"
	"        type: reconcile\n"
	"        compare: rows\n"
	"        key: 1\n"
	"        source: {target: legacy_db, query: \"SELECT id, name, lower(email) FROM customers\"}\n"
	"        dest:   {target: odoo_db,  query: \"SELECT ref::int, name, lower(email) FROM res_partner WHERE ref IS NOT NULL\"}\n"
	"        tolerance: 0\n"
	"  - id: switchover\n"
	"    steps:\n"
	"      - id: go-no-go\n"
	"        type: checkpoint\n"
	"        approvals: 2\n"
	"        approvers: [duty-manager]\n"
	"      - id: repoint-edi\n"
	"        type: ssh\n"
	"        target: legacy_app\n"
	"        run: /opt/edi/repoint --to odoo\n"
	"        irreversible: true\n";

/* tests/runbooks/good/all-fields.yaml */
static const char all_fields[] =
	"# Every field of every step type and target type, with non-default values.\n"
	"cutover: 1\n"
	"name: all-fields.v2\n"
	"title: Every field, ${wave}\n"
	"description: |\n"
	"  Used by the unit tests: each value here is checked in the model.\n"
	"  Costs $$0 to run.\n"
	"vars:\n"
	"  wave: wave-1\n"
	"  app_host: 10.0.0.4\n"
	"  unit: batch.service\n"
	"  stop_cmd: sudo systemctl stop ${unit}\n"
	"  app_pw: ${env:APP_PW}\n"
	"  key_pw: ${env:KEY_PW}\n"
	"secrets: [app_pw]\n"
	"roles:\n"
	"  duty-manager: [alice, bob]\n"
	"  dba: [carol]\n"
	"settings:\n"
	"  parallel: 3\n"
	"  default_timeout: 15m\n"
	"  shell: /bin/bash\n"
	"  rollback_roles: [duty-manager, dba]\n"
	"targets:\n"
	"  app:\n"
	"    type: ssh\n"
	"    host: ${app_host}\n"
	"    port: 2222\n"
	"    user: ops\n"
	"    identity: ~/.ssh/id_ed25519\n"
	"    passphrase: ${env:KEY_PW}\n"
	"    password: ${env:APP_PW}\n"
	"    known_hosts: /etc/cutover/known_hosts\n"
	"    host_key: accept-new\n"
	"  legacy_db: {type: postgres, conninfo: \"service=legacy\"}\n"
	"  odoo_db: {type: postgres, conninfo: \"postgresql://cutover@odoo-db/odoo\"}\n"
	"phases:\n"
	"  - id: prepare\n"
	"    title: Prepare\n"
	"    steps:\n"
	"      - id: build\n"
	"        title: Build the load files\n"
	"        type: local\n"
	"        run: make -C /srv/load ${wave}\n"
	"        verify: test -f /srv/load/${wave}.done\n"
	"        rollback: rm -f /srv/load/${wave}.done\n"
	"        timeout: 1h30m\n"
	"        retries: 3\n"
	"        retry_delay: 30s\n"
	"        planned: 45m\n"
	"        owner: data-team\n"
	"        irreversible: false\n"
	"      - id: stop-batch\n"
	"        type: ssh\n"
	"        target: app\n"
	"        run: ${stop_cmd}\n"
	"        verify: \"! systemctl is-active --quiet ${unit}\"\n"
	"        rollback: sudo systemctl start ${unit}\n"
	"        irreversible: true\n"
	"  - id: load\n"
	"    steps:\n"
	"      - id: load-partners\n"
	"        type: sql\n"
	"        target: odoo_db\n"
	"        run: SELECT load_partners('${wave}');\n"
	"        verify: SELECT count(*) > 0 FROM res_partner\n"
	"        needs: [build]\n"
	"        timeout: 250ms\n"
	"      - id: count-partners\n"
	"        type: reconcile\n"
	"        compare: value\n"
	"        tolerance: 0.5\n"
	"        source: {target: legacy_db, query: SELECT count(*) FROM customers}\n"
	"        dest: {target: odoo_db, query: SELECT count(*) FROM res_partner}\n"
	"        needs: []\n"
	"      - id: rows-partners\n"
	"        type: reconcile\n"
	"        compare: rows\n"
	"        key: 2\n"
	"        source:\n"
	"          target: legacy_db\n"
	"          query: SELECT id, name FROM customers\n"
	"        dest:\n"
	"          target: odoo_db\n"
	"          query: SELECT ref, name FROM res_partner\n"
	"      - id: call-stores\n"
	"        type: manual\n"
	"        owner: store-ops\n"
	"        instructions: Call every store manager.\n"
	"        rollback: Tell the stores to go back to the legacy tills.\n"
	"        planned: 20m\n"
	"      - id: go\n"
	"        type: checkpoint\n"
	"        title: Go / no-go\n"
	"        instructions: Check the reconciliation figures.\n"
	"        approvals: 2\n"
	"        approvers: [duty-manager]\n"
	"        needs: [count-partners, rows-partners, call-stores]\n";

/* tests/runbooks/good/dependencies.yaml */
static const char dependencies[] =
	"# Explicit needs across phases, a step that needs nothing, and fan-in.\n"
	"cutover: 1\n"
	"name: dependencies\n"
	"phases:\n"
	"  - id: one\n"
	"    steps:\n"
	"      - {id: a, type: local, run: \"true\"}\n"
	"      - {id: b, type: local, run: \"true\"}\n"
	"      - {id: c, type: local, run: \"true\", needs: []}\n"
	"  - id: two\n"
	"    steps:\n"
	"      - {id: d, type: local, run: \"true\"}\n"
	"      - {id: e, type: local, run: \"true\", needs: [a, d]}\n"
	"      - {id: f, type: local, run: \"true\"}\n"
	"  - id: three\n"
	"    steps:\n"
	"      - {id: g, type: manual, instructions: Look.}\n";

static const char minimal[] =
	"cutover: 1\n"
	"name: minimal\n"
	"targets:\n"
	"  app: {type: ssh, host: h}\n"
	"phases:\n"
	"  - id: p\n"
	"    steps:\n"
	"      - id: a\n"
	"        type: local\n"
	"        run: echo a\n"
	"      - id: b\n"
	"        type: reconcile\n"
	"        compare: value\n"
	"        source: {target: db, query: SELECT 1}\n"
	"        dest: {target: db, query: SELECT 1}\n"
	"      - id: c\n"
	"        type: checkpoint\n"
	"targets_placeholder: 0\n";

static struct runbook *load_ok(const char *, size_t);
static struct diags load_fails(const char *, size_t);
static struct rb_step *step(struct runbook *, const char *);
static void assert_deps(const struct runbook *, const char *, const char *);
static void sha_of(const char *, const char *, char *);

/* Load text that must be valid. */
static struct runbook *
load_ok(const char *text, size_t len)
{
	struct diags d = { 0 };
	struct runbook *rb = NULL;

	if (runbook_load_buffer("test.yaml", text, len, &rb, &d) != 0) {
		diags_print(&d, stderr);
		diags_free(&d);
		fail_msg("runbook did not load");
	}
	assert_int_equal(d.n, 0);
	assert_non_null(rb);
	return rb;
}

/* Load text that must be refused; returns the diagnostics. */
static struct diags
load_fails(const char *text, size_t len)
{
	struct diags d = { 0 };
	struct runbook *rb = (struct runbook *)1;

	assert_int_equal(runbook_load_buffer("bad.yaml", text, len, &rb, &d),
	    -1);
	assert_null(rb);
	assert_true(d.n > 0);
	return d;
}

static struct rb_step *
step(struct runbook *rb, const char *id)
{
	struct rb_step *s = runbook_find_step(rb, id);

	if (s == NULL)
		fail_msg("no step %s", id);
	return s;
}

/* Check that step id has exactly the deps listed in want ("a b c"). */
static void
assert_deps(const struct runbook *rb, const char *id, const char *want)
{
	const struct rb_step *s = runbook_find_step(rb, id);
	char got[256] = "";
	size_t i;

	assert_non_null(s);
	for (i = 0; i < s->ndeps; i++) {
		if (i > 0)
			strcat(got, " ");
		strcat(got, rb->steps[s->deps[i]].id);
	}
	if (strcmp(got, want) != 0)
		fail_msg("deps of %s: got '%s', want '%s'", id, got, want);
}

static void
test_spec_example(void **state)
{
	struct runbook *rb = load_ok(spec_example, strlen(spec_example));
	struct rb_step *s;
	struct rb_target *t;
	char sha[65];

	assert_string_equal(rb->path, "test.yaml");
	assert_int_equal(rb->version, 1);
	assert_string_equal(rb->name, "retail-wave1");
	assert_string_equal(rb->title, "Legacy ERP to Odoo 17, retail wave 1");
	assert_string_equal(rb->description, "free text");
	sha256_hex(spec_example, strlen(spec_example), sha);
	assert_string_equal(rb->sha256, sha);
	assert_int_equal(rb->textlen, strlen(spec_example));
	assert_string_equal(rb->text, spec_example);

	assert_int_equal(rb->nvars, 2);
	assert_string_equal(rb->vars[0].name, "batch_unit");
	assert_string_equal(rb->vars[0].value, "legacy-batch.service");
	assert_false(rb->vars[0].secret);
	assert_string_equal(runbook_find_var(rb, "legacy_pw")->value,
	    "${env:LEGACY_PW}");
	assert_true(runbook_find_var(rb, "legacy_pw")->secret);
	assert_int_equal(rb->vars[1].pos.line, 7);
	assert_int_equal(rb->vars[1].pos.col, 3);

	assert_int_equal(rb->nroles, 1);
	assert_true(runbook_role_has(runbook_find_role(rb, "duty-manager"),
	    "bob"));
	assert_false(runbook_role_has(runbook_find_role(rb, "duty-manager"),
	    "mallory"));
	assert_null(runbook_find_role(rb, "dba"));

	assert_int_equal(rb->parallel, 4);
	assert_int_equal(rb->default_timeout_ms, 10 * MIN);
	assert_string_equal(rb->shell, "/bin/sh");
	assert_int_equal(rb->nrollback_roles, 1);
	assert_string_equal(rb->rollback_roles[0], "duty-manager");

	assert_int_equal(rb->ntargets, 3);
	t = &rb->targets[0];
	assert_string_equal(t->name, "legacy_app");
	assert_int_equal(t->type, TARGET_SSH);
	assert_string_equal(t->host, "10.0.0.4");
	assert_int_equal(t->port, 22);
	assert_string_equal(t->user, "ops");
	assert_string_equal(t->identity, "~/.ssh/cutover_ed25519");
	assert_string_equal(t->known_hosts, "~/.ssh/known_hosts");
	assert_false(t->accept_new);
	assert_null(t->password);
	assert_int_equal(rb->targets[1].type, TARGET_POSTGRES);
	assert_string_equal(rb->targets[2].conninfo,
	    "host=odoo-db dbname=odoo user=cutover");

	assert_int_equal(rb->nphases, 3);
	assert_string_equal(rb->phases[0].title, "Freeze legacy writes");
	assert_null(rb->phases[1].title);
	assert_int_equal(rb->phases[2].first, 3);
	assert_int_equal(rb->phases[2].nsteps, 2);
	assert_ptr_equal(runbook_find_phase(rb, "reconcile"), &rb->phases[1]);
	assert_null(runbook_find_phase(rb, "nope"));
	assert_int_equal(rb->nsteps, 5);

	s = step(rb, "announce-freeze");
	assert_int_equal(s->type, STEP_MANUAL);
	assert_string_equal(s->owner, "store-ops");
	assert_int_equal(s->planned_ms, 10 * MIN);
	assert_int_equal(s->pos.line, 25);
	assert_int_equal(s->pos.col, 9);

	s = step(rb, "stop-batch");
	assert_int_equal(s->type, STEP_SSH);
	assert_string_equal(s->target_name, "legacy_app");
	assert_ptr_equal(s->target, &rb->targets[0]);
	assert_string_equal(s->run, "sudo systemctl stop ${batch_unit}");
	assert_string_equal(s->verify,
	    "! systemctl is-active --quiet ${batch_unit}");
	assert_string_equal(s->rollback, "sudo systemctl start ${batch_unit}");
	assert_int_equal(s->timeout_ms, 2 * MIN);
	assert_int_equal(s->retries, 2);
	assert_int_equal(s->planned_ms, 2 * MIN);
	assert_int_equal(s->phase, 0);
	assert_int_equal(s->index, 1);

	s = step(rb, "partners");
	assert_int_equal(s->type, STEP_RECONCILE);
	assert_int_equal(s->compare, COMPARE_ROWS);
	assert_int_equal(s->key, 1);
	assert_string_equal(s->source.target_name, "legacy_db");
	assert_ptr_equal(s->source.target, &rb->targets[1]);
	assert_ptr_equal(s->dest.target, &rb->targets[2]);
	assert_string_equal(s->dest.query, "SELECT ref::int, name, "
	    "lower(email) FROM res_partner WHERE ref IS NOT NULL");
	assert_true(s->tolerance == 0);

	s = step(rb, "go-no-go");
	assert_int_equal(s->type, STEP_CHECKPOINT);
	assert_int_equal(s->approvals, 2);
	assert_int_equal(s->napprovers, 1);
	assert_string_equal(s->approvers[0], "duty-manager");

	s = step(rb, "repoint-edi");
	assert_true(s->irreversible);
	assert_int_equal(s->timeout_ms, 10 * MIN);
	assert_int_equal(s->planned_ms, -1);

	/* Defaults, and the phase rule for dependencies. */
	assert_deps(rb, "announce-freeze", "");
	assert_deps(rb, "stop-batch", "announce-freeze");
	assert_deps(rb, "partners", "announce-freeze stop-batch");
	assert_deps(rb, "go-no-go", "partners");
	assert_deps(rb, "repoint-edi", "go-no-go");
	assert_null(runbook_find_step(rb, "nope"));
	runbook_free(rb);
}

static void
test_all_fields(void **state)
{
	struct runbook *rb = load_ok(all_fields, strlen(all_fields));
	struct rb_target *t;
	struct rb_step *s;

	assert_string_equal(rb->name, "all-fields.v2");
	assert_string_equal(rb->title, "Every field, ${wave}");
	assert_string_equal(rb->description, "Used by the unit tests: each "
	    "value here is checked in the model.\nCosts $$0 to run.\n");
	assert_int_equal(rb->parallel, 3);
	assert_int_equal(rb->default_timeout_ms, 15 * MIN);
	assert_string_equal(rb->shell, "/bin/bash");
	assert_int_equal(rb->nrollback_roles, 2);
	assert_true(runbook_find_var(rb, "app_pw")->secret);
	assert_false(runbook_find_var(rb, "key_pw")->secret);

	t = &rb->targets[0];
	assert_string_equal(t->host, "${app_host}");
	assert_int_equal(t->port, 2222);
	assert_string_equal(t->passphrase, "${env:KEY_PW}");
	assert_string_equal(t->password, "${env:APP_PW}");
	assert_string_equal(t->known_hosts, "/etc/cutover/known_hosts");
	assert_true(t->accept_new);
	assert_string_equal(rb->targets[2].conninfo,
	    "postgresql://cutover@odoo-db/odoo");

	s = step(rb, "build");
	assert_int_equal(s->type, STEP_LOCAL);
	assert_string_equal(s->title, "Build the load files");
	assert_null(s->target);
	assert_int_equal(s->timeout_ms, 90 * MIN);
	assert_int_equal(s->retries, 3);
	assert_int_equal(s->retry_delay_ms, 30000);
	assert_int_equal(s->planned_ms, 45 * MIN);
	assert_string_equal(s->owner, "data-team");
	assert_false(s->irreversible);
	assert_int_equal(s->compare, COMPARE_NONE);

	s = step(rb, "stop-batch");
	assert_string_equal(s->run, "${stop_cmd}");
	assert_true(s->irreversible);
	assert_int_equal(s->timeout_ms, 15 * MIN);

	s = step(rb, "load-partners");
	assert_int_equal(s->type, STEP_SQL);
	assert_ptr_equal(s->target, &rb->targets[2]);
	assert_int_equal(s->timeout_ms, 250);
	assert_true(s->needs_given);
	assert_int_equal(s->nneeds, 1);

	s = step(rb, "count-partners");
	assert_int_equal(s->compare, COMPARE_VALUE);
	assert_true(s->tolerance == 0.5);
	assert_true(s->needs_given);
	assert_int_equal(s->nneeds, 0);
	assert_int_equal(s->ndeps, 0);

	s = step(rb, "rows-partners");
	assert_int_equal(s->compare, COMPARE_ROWS);
	assert_int_equal(s->key, 2);
	assert_string_equal(s->source.query, "SELECT id, name FROM customers");
	assert_int_equal(s->source.pos.line, 81);

	s = step(rb, "call-stores");
	assert_int_equal(s->type, STEP_MANUAL);
	assert_string_equal(s->instructions, "Call every store manager.");
	assert_string_equal(s->rollback, "Tell the stores to go back to the "
	    "legacy tills.");

	s = step(rb, "go");
	assert_string_equal(s->title, "Go / no-go");
	assert_int_equal(s->approvals, 2);
	assert_true(step_kind_is_person(s->type));
	assert_deps(rb, "go", "count-partners rows-partners call-stores");
	runbook_free(rb);
}

static void
test_defaults(void **state)
{
	static const char text[] =
		"cutover: 1\n"
		"name: defaults\n"
		"targets:\n"
		"  app: {type: ssh, host: h}\n"
		"  db: {type: postgres, conninfo: x}\n"
		"phases:\n"
		"  - id: p\n"
		"    steps:\n"
		"      - {id: a, type: local, run: echo}\n"
		"      - id: b\n"
		"        type: reconcile\n"
		"        compare: value\n"
		"        source: {target: db, query: SELECT 1}\n"
		"        dest: {target: db, query: SELECT 1}\n"
		"      - {id: c, type: checkpoint}\n";
	struct runbook *rb = load_ok(text, strlen(text));
	struct rb_step *s;
	size_t i;

	assert_int_equal(rb->parallel, 1);
	assert_int_equal(rb->default_timeout_ms, RUNBOOK_DEFAULT_TIMEOUT_MS);
	assert_string_equal(rb->shell, "/bin/sh");
	assert_int_equal(rb->nrollback_roles, 0);
	assert_null(rb->title);
	assert_null(rb->description);
	assert_int_equal(rb->nvars, 0);
	assert_int_equal(rb->nroles, 0);
	assert_int_equal(rb->targets[0].port, 22);
	assert_null(rb->targets[0].user);
	assert_null(rb->targets[0].identity);
	assert_null(rb->targets[0].known_hosts);
	assert_false(rb->targets[0].accept_new);
	for (i = 0; i < rb->nsteps; i++) {
		s = &rb->steps[i];
		assert_int_equal(s->timeout_ms, 10 * MIN);
		assert_int_equal(s->retries, 0);
		assert_int_equal(s->retry_delay_ms, 0);
		assert_int_equal(s->planned_ms, -1);
		assert_int_equal(s->approvals, 1);
		assert_int_equal(s->key, 1);
		assert_true(s->tolerance == 0);
		assert_false(s->irreversible);
		assert_false(s->needs_given);
		assert_null(s->title);
		assert_int_equal(strlen(s->def_sha), 64);
	}
	assert_int_equal(step(rb, "c")->napprovers, 0);
	assert_false(step_kind_is_person(STEP_LOCAL));
	assert_string_equal(step_type_name(STEP_RECONCILE), "reconcile");
	assert_string_equal(step_type_name(STEP_CHECKPOINT), "checkpoint");
	runbook_free(rb);

	/* default_timeout applies to steps without their own. */
	{
		static const char t2[] =
			"cutover: 1\nname: x\nsettings: {default_timeout: 3m}\n"
			"phases:\n  - id: p\n    steps:\n"
			"      - {id: a, type: local, run: echo}\n"
			"      - {id: b, type: local, run: echo, timeout: 5s}\n";

		rb = load_ok(t2, strlen(t2));
		assert_int_equal(step(rb, "a")->timeout_ms, 3 * MIN);
		assert_int_equal(step(rb, "b")->timeout_ms, 5000);
		runbook_free(rb);
	}
}

static void
test_dependencies(void **state)
{
	struct runbook *rb = load_ok(dependencies, strlen(dependencies));

	assert_deps(rb, "a", "");
	assert_deps(rb, "b", "a");
	assert_deps(rb, "c", "");		/* needs: [] */
	assert_deps(rb, "d", "a b c");		/* every step of phase one */
	assert_deps(rb, "e", "a d");		/* explicit, across phases */
	assert_deps(rb, "f", "e");
	assert_deps(rb, "g", "d e f");
	runbook_free(rb);
}

/* def_sha of step id in text. */
static void
sha_of(const char *text, const char *id, char *out)
{
	struct runbook *rb = load_ok(text, strlen(text));

	strcpy(out, step(rb, id)->def_sha);
	runbook_free(rb);
}

#define BASE_HEAD "cutover: 1\nname: sha\nphases:\n  - id: p\n    steps:\n"
#define BASE_A "      - id: a\n        type: local\n        run: echo a\n"
#define BASE_B "      - id: b\n        type: local\n        run: echo b\n"

static void
test_def_sha(void **state)
{
	char base[65], other[65], again[65];

	sha_of(BASE_HEAD BASE_A BASE_B, "a", base);
	sha_of(BASE_HEAD BASE_A BASE_B, "b", other);
	assert_string_not_equal(base, other);

	/* Not changed by: other steps, layout, comments, quoting, order of
	 * keys, the runbook around it. */
	sha_of(BASE_HEAD BASE_A "      - {id: b, type: local, run: other}\n",
	    "a", again);
	assert_string_equal(base, again);
	sha_of("# comment\n" BASE_HEAD "      - id: a   # the first\n"
	    "        run: \"echo a\"\n        type: 'local'\n" BASE_B, "a",
	    again);
	assert_string_equal(base, again);
	sha_of("cutover: 1\nname: renamed\ntitle: T\n"
	    "settings: {default_timeout: 1h}\n"
	    "phases:\n  - id: q\n    steps:\n" BASE_B BASE_A, "a", again);
	assert_string_equal(base, again);

	/* Changed by any field of its own, including one set to its default. */
	sha_of(BASE_HEAD "      - id: a\n        type: local\n"
	    "        run: echo A\n" BASE_B, "a", again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD BASE_A "        title: A\n" BASE_B, "a", again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD BASE_A "        timeout: 10m\n" BASE_B, "a", again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD BASE_A "        retries: 0\n" BASE_B, "a", again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD BASE_A "        needs: []\n" BASE_B, "a", again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD BASE_A "        verify: \"\"\n" BASE_B, "a", again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD BASE_A "        irreversible: true\n" BASE_B, "a",
	    again);
	assert_string_not_equal(base, again);
	sha_of(BASE_HEAD "      - id: a\n        type: local\n"
	    "        run: echo a\n        verify: x\n" BASE_B, "a", other);
	sha_of(BASE_HEAD "      - id: a\n        type: local\n"
	    "        run: echo a\n        rollback: x\n" BASE_B, "a", again);
	assert_string_not_equal(other, again);
}

/*
 * The rules of def_sha. RB_HASH_ALL_KEYS is what cutover 0.1.0 computed:
 * the hashes it recorded in tests/fixtures/state-0.1.0.db for the steps of
 * state-0.1.0.yaml. RB_HASH_PRESENT hashes the keys present only, so it
 * can be computed here by hand, and no key the loader learns later can
 * change it.
 */
static void
test_hash_rules(void **state)
{
	static const char *const v010[][2] = {
		{ "freeze",
		    "d773a2960c0e87c320e547269f0cfd60"
		    "c03bc57d5478a528715c09494782a3ee" },
		{ "export",
		    "0a6118dbe4dff20907517aea590eea22"
		    "f21d0764ab7ba0b9125c24b8e7fe3a71" },
		{ "check",
		    "f1994ddceb33297e48cc0219d7d018d0"
		    "640acd13084795753b3e814cde6e752c" },
		{ "import",
		    "6be935b992421ab5394c7eb92fcd4b11"
		    "f1eeaca324532ae55da1ac169261668c" },
		{ "go",
		    "3868af7066dd1995621ec979328f8e34"
		    "5b11ad72f8345371a0258f26a759c41b" },
	};
	const char *top = getenv("SRCDIR");
	struct runbook *rb = NULL;
	struct diags d = { 0 };
	struct sha256_ctx *c;
	char path[4096], want[65], got[65];
	size_t i;

	(void)state;
	snprintf(path, sizeof path, "%s/tests/fixtures/state-0.1.0.yaml",
	    top != NULL && *top ? top : ".");
	assert_int_equal(runbook_load(path, &rb, &d), 0);
	for (i = 0; i < sizeof v010 / sizeof v010[0]; i++) {
		assert_string_equal(runbook_step_sha(step(rb, v010[i][0]),
		    RB_HASH_ALL_KEYS), v010[i][1]);
		assert_string_not_equal(runbook_step_sha(step(rb, v010[i][0]),
		    RB_HASH_PRESENT), v010[i][1]);
	}
	assert_ptr_equal(runbook_step_sha(step(rb, "go"), RB_HASH_CURRENT),
	    step(rb, "go")->def_sha);
	runbook_free(rb);

	c = sha256_begin();
	sha256_add_field(c, "id");
	sha256_add(c, "s1:a", 4);
	sha256_add_field(c, "type");
	sha256_add(c, "s5:local", 8);
	sha256_add_field(c, "run");
	sha256_add(c, "s6:echo a", 9);
	sha256_end(c, want);
	sha_of(BASE_HEAD BASE_A, "a", got);
	assert_string_equal(got, want);
}

static void
test_errors(void **state)
{
	static const char text[] =
		"cutover: 1\n"
		"name: errors\n"
		"phases:\n"
		"  - id: p\n"
		"    steps:\n"
		"      - id: a\n"
		"        type: local\n"
		"        run: echo ${nope} ${env:OK}\n"
		"        retrys: 2\n"
		"      - id: b\n"
		"        type: local\n"
		"        run: x\n"
		"        needs: [b, zz]\n";
	struct diags d = load_fails(text, strlen(text));
	FILE *null = fopen("/dev/null", "w");

	/* Every error, in file order once printed. */
	assert_int_equal(d.n, 4);
	assert_non_null(null);
	diags_print(&d, null);
	fclose(null);
	assert_string_equal(d.v[0].msg, "unknown variable ${nope}");
	assert_int_equal(d.v[0].line, 8);
	assert_int_equal(d.v[0].col, 19);
	assert_string_equal(d.v[1].msg,
	    "unknown key 'retrys' (did you mean 'retries'?)");
	assert_int_equal(d.v[1].line, 9);
	assert_string_equal(d.v[2].msg, "step 'b' needs itself");
	assert_int_equal(d.v[2].col, 17);
	assert_string_equal(d.v[3].msg, "unknown step 'zz' in needs");
	assert_string_equal(d.v[3].file, "bad.yaml");
	diags_free(&d);
}

static void
test_limits(void **state)
{
	struct diags d;
	char *big;
	size_t i, len;

	/* Over 4 MiB: refused without parsing. */
	big = malloc(RUNBOOK_MAX_SIZE + 1);
	memset(big, '#', RUNBOOK_MAX_SIZE + 1);
	d = load_fails(big, RUNBOOK_MAX_SIZE + 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 0);
	assert_string_equal(d.v[0].msg, "runbook is larger than 4 MiB");
	diags_free(&d);

	/* Nesting: 64 levels are fine for YAML, 65 are not. */
	len = (size_t)sprintf(big, "cutover: 1\nname: x\nx: ");
	for (i = 0; i < 70; i++)
		big[len++] = '[';
	for (i = 0; i < 70; i++)
		big[len++] = ']';
	d = load_fails(big, len);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, "nesting deeper than 64 levels");
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 4 + 63);
	diags_free(&d);
	len = (size_t)sprintf(big, "cutover: 1\nname: x\nx: ");
	for (i = 0; i < 63; i++)
		big[len++] = '[';
	for (i = 0; i < 63; i++)
		big[len++] = ']';
	d = load_fails(big, len);
	assert_string_equal(d.v[0].msg, "unknown key 'x'");
	diags_free(&d);

	/* Aliases, empty input, NUL bytes, a missing file. */
	d = load_fails("a: &x 1\nb: *x\n", 14);
	assert_string_equal(d.v[0].msg,
	    "YAML anchors and aliases are not allowed");
	assert_int_equal(d.v[0].col, 4);
	assert_string_equal(d.v[1].msg,
	    "YAML anchors and aliases are not allowed");
	assert_int_equal(d.v[1].line, 2);
	diags_free(&d);
	d = load_fails("", 0);
	assert_string_equal(d.v[0].msg, "runbook is empty");
	diags_free(&d);
	d = load_fails("cutover: 1\0name: x\n", 19);
	diags_free(&d);
	d = load_fails("name: \"a\\0b\"\n", 13);
	diags_free(&d);
	free(big);

	d.n = 0;
	d.v = NULL;
	d.cap = 0;
	errno = 0;
	{
		struct runbook *rb = (struct runbook *)1;

		assert_int_equal(runbook_load("/nonexistent/x.yaml", &rb, &d),
		    -1);
		assert_null(rb);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(d.n, 0);
	}
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test-runbook.XXXXXX";
	struct diags d = { 0 };
	struct runbook *rb = NULL;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(minimal, f);
	fclose(f);
	/* minimal has an unknown key and an unknown target db. */
	assert_int_equal(runbook_load(path, &rb, &d), -1);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.v[0].file, path);
	diags_free(&d);
	unlink(path);
}

/* The messages of d, sorted as printed, one per line. */
static char *
messages(struct diags *d)
{
	FILE *null = fopen("/dev/null", "w");
	size_t i, len = 1;
	char *out;

	assert_non_null(null);
	diags_print(d, null); /* sorts */
	fclose(null);
	for (i = 0; i < d->n; i++)
		len += strlen(d->v[i].msg) + 16;
	out = calloc(1, len);
	for (i = 0; i < d->n; i++)
		sprintf(out + strlen(out), "%u:%s\n", d->v[i].line, d->v[i].msg);
	return out;
}

/*
 * Steps are loaded while the file is parsed, a step at a time: the model
 * must be the one a whole tree would give, however many steps and phases,
 * and the errors too.
 */
static void
test_steps_while_parsing(void **state)
{
	struct runbook *rb;
	struct diags d;
	char *text, *msgs, sha[65];
	size_t cap = 1 << 20, len = 0, i, p;

	/* 3 phases of 700 steps (the nodes of many steps pass through the
	 * same memory), keys in varied order, one flow-style step. */
	text = malloc(cap);
	len += (size_t)sprintf(text + len, "cutover: 1\nphases:\n");
	for (p = 0; p < 3; p++) {
		len += (size_t)sprintf(text + len, "  - steps:\n");
		for (i = 0; i < 700; i++) {
			if (i == 350) {
				len += (size_t)sprintf(text + len, "      - {run: "
				    "\"echo %zu\", type: local, id: s%zu-%zu}\n",
				    i, p, i);
				continue;
			}
			len += (size_t)sprintf(text + len, "      - id: s%zu-%zu\n"
			    "        type: local\n        run: echo %zu\n"
			    "        planned: %zus\n", p, i, i, i + 1);
		}
		len += (size_t)sprintf(text + len, "    id: phase%zu\n", p);
	}
	len += (size_t)sprintf(text + len, "name: many\n");
	rb = load_ok(text, len);
	assert_int_equal(rb->nphases, 3);
	assert_int_equal(rb->nsteps, 2100);
	for (p = 0; p < 3; p++) {
		assert_int_equal(rb->phases[p].first, p * 700);
		assert_int_equal(rb->phases[p].nsteps, 700);
	}
	assert_string_equal(step(rb, "s2-699")->run, "echo 699");
	assert_int_equal(step(rb, "s1-10")->planned_ms, 11000);
	assert_int_equal(step(rb, "s1-10")->phase, 1);
	assert_string_equal(step(rb, "s0-350")->run, "echo 350");
	assert_int_equal(step(rb, "s1-0")->ndeps, 700); /* all of phase0 */
	assert_int_equal(step(rb, "s1-0")->deps[699], 699);
	assert_deps(rb, "s2-5", "s2-4");
	/* The same step alone hashes the same. */
	sha_of(BASE_HEAD "      - id: s1-10\n        type: local\n"
	    "        run: echo 10\n        planned: 11s\n", "s1-10", sha);
	assert_string_equal(step(rb, "s1-10")->def_sha, sha);
	runbook_free(rb);
	free(text);

	/* A YAML error drops what the steps before it said, like the tree. */
	static const char broken[] =
		"cutover: 1\nname: broken\nphases:\n  - id: p\n    steps:\n"
		"      - id: a\n        type: local\n        retrys: 2\n"
		"      - id: b\n        type: local\n        run: [x\n";
	d = load_fails(broken, strlen(broken));
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "invalid YAML"));
	diags_free(&d);

	/* A second "steps" or "phases" is only a repeat: nothing in it is
	 * loaded; items that are not mappings are reported in place. */
	static const char repeats[] =
		"cutover: 1\nname: repeats\nphases:\n"
		"  - just a word\n"
		"  - id: p\n    steps:\n"
		"      - id: a\n        type: local\n        run: echo a\n"
		"      - 42\n"
		"    steps:\n"
		"      - id: a\n        type: nope\n"
		"  - id: q\n    steps:\n"
		"      - id: b\n        type: local\n        run: echo b\n"
		"        needs: [a]\n"
		"phases:\n  - id: r\n    steps:\n      - {id: c, type: bad}\n";
	d = load_fails(repeats, strlen(repeats));
	msgs = messages(&d);
	assert_string_equal(msgs,
	    "4:phase: expected a mapping, found 'just a word'\n"
	    "10:step: expected a mapping, found '42'\n"
	    "11:duplicate key 'steps' (first at line 6)\n"
	    "20:duplicate key 'phases' (first at line 3)\n");
	free(msgs);
	diags_free(&d);
}

/* operators: names to database users; settings.operator. */
static void
test_operators(void **state)
{
	static const char text[] =
	    "cutover: 1\n"
	    "name: ops\n"
	    "operators:\n"
	    "  alice: [alice_db, alice_ro]\n"
	    "  al: [alice_db]\n"
	    "  bob: [bob_db]\n"
	    "settings: {operator: os-user}\n"
	    "phases:\n"
	    "  - {id: p, steps: [{id: s, type: manual}]}\n";
	struct runbook *rb = load_ok(text, sizeof text - 1);

	(void)state;
	assert_int_equal(rb->noperators, 3);
	assert_int_equal(rb->operator_mode, RB_OPERATOR_OS_USER);
	assert_true(runbook_operator_is(rb, "alice", "alice_ro"));
	assert_true(runbook_operator_is(rb, "al", "alice_db"));
	assert_false(runbook_operator_is(rb, "al", "alice_ro"));
	assert_false(runbook_operator_is(rb, "bob", "alice_db"));
	assert_false(runbook_operator_is(rb, "carol", "carol"));
	/* One alias names the user; two leave it nameless. */
	assert_string_equal(runbook_operator_of(rb, "bob_db"), "bob");
	assert_string_equal(runbook_operator_of(rb, "alice_ro"), "alice");
	assert_null(runbook_operator_of(rb, "alice_db"));
	assert_null(runbook_operator_of(rb, "nobody"));
	runbook_free(rb);
}

/* notify: sinks: names, events, formats, and what lint refuses. */
static void
test_notify(void **state)
{
	static const char ok[] =
	    "cutover: 1\nname: n\nvars: {tag: x}\nnotify:\n"
	    "  - {events: [awaiting, failed], webhook: \"${env:HOOK}\", "
	    "format: slack}\n"
	    "  - {name: pager, events: failed, command: \"logger ${tag} "
	    "'${event.step} ${event.message}'\"}\n"
	    "  - {webhook: \"${env:HOOK}/all\"}\n"
	    "phases:\n  - id: p\n    steps:\n      - {id: a, type: local, "
	    "run: \"true\"}\n";
	static const char bad[] =
	    "cutover: 1\nname: n\nnotify:\n"
	    "  - {events: [awaitng], webhook: \"http://h/T0KEN\"}\n"
	    "  - {command: \"echo ${event.nope}\", format: teams}\n"
	    "  - {events: [failed]}\n"
	    "phases:\n  - id: p\n    steps:\n      - {id: a, type: local, "
	    "run: \"echo ${event.step}\"}\n";
	struct runbook *rb = load_ok(ok, strlen(ok));
	struct diags d;
	const char *want[] = { "4:15: unknown event 'awaitng' (did you mean "
	    "awaiting?)", "4:34: notify sink 1: give the webhook address as "
	    "${env:NAME}", "5:21: unknown event field ${event.nope}",
	    "5:45: notify sink 2: 'format' applies to webhook sinks",
	    "6:5: notify sink 3 needs one of 'webhook' and 'command'",
	    "10:41: unknown variable ${event.step}" };
	char line[512];
	size_t i, j;

	assert_int_equal(rb->nnotify, 3);
	assert_string_equal(rb->notify[0].name, "1");
	assert_int_equal(rb->notify[0].events,
	    NOTIFY_EV_BIT(NOTIFY_EV_AWAITING) | NOTIFY_EV_BIT(NOTIFY_EV_FAILED));
	assert_int_equal(rb->notify[0].format, NOTIFY_FMT_SLACK);
	assert_string_equal(rb->notify[0].webhook, "${env:HOOK}");
	assert_null(rb->notify[0].command);
	assert_string_equal(rb->notify[1].name, "pager");
	assert_int_equal(rb->notify[1].events, NOTIFY_EV_BIT(NOTIFY_EV_FAILED));
	assert_non_null(strstr(rb->notify[1].command, "${event.step}"));
	assert_string_equal(rb->notify[2].name, "3");
	assert_int_equal(rb->notify[2].events, NOTIFY_EV_ALL);
	assert_int_equal(rb->notify[2].format, NOTIFY_FMT_JSON);
	runbook_free(rb);

	d = load_fails(bad, strlen(bad));
	for (j = 0; j < sizeof want / sizeof want[0]; j++) {
		for (i = 0; i < d.n; i++) {
			snprintf(line, sizeof line, "%u:%u: %s", d.v[i].line,
			    d.v[i].col, d.v[i].msg);
			if (strstr(line, want[j]) != NULL)
				break;
		}
		if (i == d.n)
			fail_msg("no error '%s'", want[j]);
	}
	for (i = 0; i < d.n; i++)
		assert_null(strstr(d.v[i].msg, "T0KEN"));
	diags_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_all_fields),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dependencies),
		cmocka_unit_test(test_def_sha),
		cmocka_unit_test(test_hash_rules),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_steps_while_parsing),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
