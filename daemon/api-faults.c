/*
 * api-faults.c: fault reports on instruments.
 *
 *	POST   /api/v1/instruments/{code}/faults	any user reports one
 *	GET    /api/v1/faults				list (instrument=, open=)
 *	POST   /api/v1/faults/{id}/resolve		a manager resolves one
 *
 * A fault has a severity (low, medium, high) and a description.  A high
 * fault on an active instrument turns it to maintenance, which blocks new
 * bookings (booking answers 422 "instrument_status"), and marks the
 * instrument fault_blocked; when the last open high fault is resolved, an
 * instrument still in maintenance that a fault blocked is active again.
 * Bookings already made stay: the report's answer and the list show the
 * upcoming slot-holding bookings of the instrument (redacted as everywhere,
 * in full for its managers) so that a manager can move or cancel them.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define AFFECTED_MAX	50	/* upcoming bookings listed per fault */

static void	api_faults_report(struct req *);
static void	api_faults_list(struct req *);
static void	api_faults_resolve(struct req *);

const struct route api_faults_routes[] = {
	{ EVHTTP_REQ_POST, "/api/v1/instruments/*/faults", R_JSON,
	    api_faults_report },
	{ EVHTTP_REQ_GET, "/api/v1/faults", 0, api_faults_list },
	{ EVHTTP_REQ_POST, "/api/v1/faults/*/resolve", R_JSON_OPT,
	    api_faults_resolve },
	{ 0, NULL, 0, NULL }
};

#define FAULT_SELECT \
	"SELECT f.id, i.code, f.severity, f.description, u.login, " \
	"f.created, f.resolved, rb.login, f.resolution, i.status, " \
	"f.instrument_id FROM faults f JOIN instruments i ON " \
	"i.id = f.instrument_id JOIN users u ON u.id = f.reported_by " \
	"LEFT JOIN users rb ON rb.id = f.resolved_by "

static json_t *
col_time(sqlite3_stmt *st, int col)
{
	json_t	*j;
	char	*s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	s = time_format(sqlite3_column_int64(st, col), YIQID_DEFAULT_ZONE);
	j = json_string(s);
	free(s);
	return (j);
}

static json_t *
col_text(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	return (json_string((const char *)sqlite3_column_text(st, col)));
}

/*
 * The upcoming slot-holding bookings of instrument iid, as the caller may
 * see them, or NULL with a database error in *rc.
 */
static json_t *
affected(struct req *r, int64_t iid, int *rc)
{
	static const char *const q =
	    "SELECT id FROM reservations WHERE instrument_id = :i AND "
	    "start > :now - " LONGEST_SQL " AND \"end\" > :now AND "
	    "status IN ('pending', 'confirmed') ORDER BY start LIMIT :max";
	sqlite3_stmt	*st;
	json_t		*items, *j;
	int64_t		 ids[AFFECTED_MAX];
	size_t		 n = 0, i;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":i", iid);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":max", AFFECTED_MAX);
	while ((*rc = db_step(st)) == SQLITE_ROW && n < AFFECTED_MAX)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (*rc != SQLITE_DONE)
		return (NULL);
	items = json_array();
	for (i = 0; i < n; i++) {
		if ((j = reservation_get(r, ids[i], rc)) == NULL) {
			json_decref(items);
			return (NULL);
		}
		json_array_append_new(items, j);
	}
	*rc = SQLITE_OK;
	return (items);
}

/* One row of FAULT_SELECT; open faults list their affected bookings. */
static json_t *
fault_json(struct req *r, sqlite3_stmt *st, int *rc)
{
	json_t	*j, *aff;
	int	 open = sqlite3_column_type(st, 6) == SQLITE_NULL;

	j = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "instrument", col_text(st, 1),
	    "severity", col_text(st, 2),
	    "description", col_text(st, 3),
	    "reported_by", col_text(st, 4),
	    "created", col_time(st, 5),
	    "open", open,
	    "resolved", col_time(st, 6),
	    "resolved_by", col_text(st, 7),
	    "resolution", col_text(st, 8),
	    "instrument_status", col_text(st, 9));
	*rc = SQLITE_OK;
	if (!open)
		return (j);
	if ((aff = affected(r, sqlite3_column_int64(st, 10), rc)) == NULL) {
		json_decref(j);
		return (NULL);
	}
	json_object_set_new(j, "affected", aff);
	return (j);
}

/* Reply with fault id (status 200 or 201). */
static void
fault_reply(struct req *r, int64_t id, int status)
{
	static const char *const q = FAULT_SELECT "WHERE f.id = :id";
	sqlite3_stmt	*st;
	json_t		*j = NULL;
	int		 rc;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	if ((rc = db_step(st)) == SQLITE_ROW)
		j = fault_json(r, st, &rc);
	sqlite3_reset(st);
	if (j == NULL)
		api_db_error(r, rc);
	else
		api_reply(r, status, j);
}

/* Inside the transaction: set instrument iid's status, audited. */
static int
set_status(struct req *r, int64_t iid, const char *code, const char *status,
    int blocked, int64_t fault)
{
	static const char *const q =
	    "UPDATE instruments SET status = :st, fault_blocked = :b, "
	    "updated = :now WHERE id = :i";
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":st", status);
	db_bind_int(st, ":b", blocked);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":i", iid);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	return (db_audit(r->ctx, r->user->id, "instrument.status",
	    "instrument", code, json_pack("{s:s,s:I}", "status", status,
	    "fault", (json_int_t)fault)));
}

static void
api_faults_report(struct req *r)
{
	static const char *const fields[] = { "severity", "description",
	    NULL };
	static const char *const q =
	    "INSERT INTO faults (instrument_id, severity, description, "
	    "reported_by, created) VALUES (:i, :sev, :d, :by, :now)";
	struct instrument	 in;
	sqlite3_stmt		*st;
	const char		*sev, *desc;
	char			 idtext[32];
	int64_t			 id;
	int			 rc;

	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "severity", 1, &sev) == -1 ||
	    in_string(r, r->body, "description", 1, &desc) == -1)
		return;
	if (strcmp(sev, "low") != 0 && strcmp(sev, "medium") != 0 &&
	    strcmp(sev, "high") != 0) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "severity"), "severity must be low, medium or high");
		return;
	}
	if (*desc == '\0') {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "description"), "say what is wrong in description");
		return;
	}
	if (instrument_load(r->ctx, r->args[0], 0, &in) == -1) {
		api_error(r, 404, "not_found", "no instrument %s", r->args[0]);
		return;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":i", in.id);
	db_bind_text(st, ":sev", sev);
	db_bind_text(st, ":d", desc);
	db_bind_int(st, ":by", r->user->id);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(idtext, sizeof idtext, "%lld", (long long)id);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "fault.report", "fault", idtext, json_pack("{s:s,s:s,s:s}",
	    "instrument", in.code, "severity", sev, "description", desc))) !=
	    SQLITE_OK || (strcmp(sev, "high") == 0 &&
	    strcmp(in.status, "active") == 0 && (rc = set_status(r, in.id,
	    in.code, "maintenance", 1, id)) != SQLITE_OK) ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	if (strcmp(sev, "high") == 0)
		log_info("instrument %s: high fault #%lld reported", in.code,
		    (long long)id);
	fault_reply(r, id, 201);
out:
	instrument_free(&in);
}

static void
api_faults_list(struct req *r)
{
	static const char *const q = FAULT_SELECT
	    "WHERE (:inst IS NULL OR i.code = :inst) AND (:open IS NULL OR "
	    "(f.resolved IS NULL) = :open) ORDER BY f.id DESC "
	    "LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	const char	*open = req_query(r, "open");
	json_t		*items, *j;
	int64_t		 limit, offset;
	int		 rc, rc2;

	if (q_limit(r, &limit, &offset) == -1)
		return;
	if (open != NULL && strcmp(open, "true") != 0 &&
	    strcmp(open, "false") != 0) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "open"), "open must be true or false");
		return;
	}
	items = json_array();
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":inst", req_query(r, "instrument"));
	if (open != NULL)
		db_bind_int(st, ":open", strcmp(open, "true") == 0);
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		if ((j = fault_json(r, st, &rc2)) == NULL) {
			rc = rc2;
			break;
		}
		json_array_append_new(items, j);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}

/* Inside the transaction: unblock the instrument if no high fault is open. */
static int
unblock(struct req *r, int64_t iid)
{
	static const char *const q =
	    "SELECT i.code, i.status, i.fault_blocked, (SELECT count(*) FROM "
	    "faults WHERE instrument_id = i.id AND severity = 'high' AND "
	    "resolved IS NULL) FROM instruments i WHERE i.id = :i";
	sqlite3_stmt	*st;
	char		*code, *status;
	int		 rc, blocked, open;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":i", iid);
	if ((rc = db_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (rc);
	}
	code = db_text(st, 0);
	status = db_text(st, 1);
	blocked = sqlite3_column_int(st, 2);
	open = sqlite3_column_int(st, 3);
	sqlite3_reset(st);
	rc = SQLITE_OK;
	if (blocked && open == 0)
		rc = set_status(r, iid, code, strcmp(status, "maintenance") ==
		    0 ? "active" : status, 0, 0);
	free(code);
	free(status);
	return (rc);
}

static void
api_faults_resolve(struct req *r)
{
	static const char *const fields[] = { "resolution", NULL };
	static const char *const q_find =
	    "SELECT instrument_id, resolved IS NOT NULL FROM faults "
	    "WHERE id = :id";
	static const char *const q =
	    "UPDATE faults SET resolved = :now, resolved_by = :by, "
	    "resolution = :res WHERE id = :id";
	sqlite3_stmt	*st;
	const char	*res = NULL;
	char		*end;
	int64_t		 id, iid;
	int		 rc, done;

	if (r->body == NULL)
		r->body = json_object();
	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "resolution", 0, &res) == -1)
		return;
	id = strtoll(r->args[0], &end, 10);
	st = db_prepare(r->ctx, q_find);
	db_bind_int(st, ":id", id);
	if (*end != '\0' || id <= 0 || db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_error(r, 404, "not_found", "no fault %s", r->args[0]);
		return;
	}
	iid = sqlite3_column_int64(st, 0);
	done = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (!auth_manages(r, iid)) {
		api_error(r, 403, "forbidden", "only a manager of the "
		    "instrument (or an admin) may resolve its faults");
		return;
	}
	if (done) {
		api_error_json(r, 422, "rule", json_pack("{s:s}", "rule",
		    "resolved"), "fault %lld is resolved already", (long long)id);
		return;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":by", r->user->id);
	db_bind_text(st, ":res", res != NULL ? res : "");
	db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "fault.resolve", "fault", r->args[0], json_pack("{s:s}",
	    "resolution", res != NULL ? res : ""))) != SQLITE_OK ||
	    (rc = unblock(r, iid)) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	fault_reply(r, id, 200);
}
