/*
 * auth.c: tokens and who may do what.  A token is 24 random bytes from
 * libsodium's CSPRNG, written URL-safe base64 with a "yq_" prefix; only
 * its SHA-256 is stored, so the lookup compares hashes and a stolen
 * database yields no usable token.  The role checks of SPEC §4 live here
 * so that every route asks the same questions the same way.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "yiqid.h"

#define TOKEN_BYTES	24
#define TOKEN_PREFIX	"yq_"

static const char *const role_names[] = {
	"member", "manager", "park_manager", "admin"
};

/* A new random token; the caller frees it. */
char *
token_new(void)
{
	unsigned char	 raw[TOKEN_BYTES];
	char		 b64[sodium_base64_ENCODED_LEN(TOKEN_BYTES,
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char		*out;

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	xasprintf(&out, "%s%s", TOKEN_PREFIX, b64);
	sodium_memzero(raw, sizeof raw);
	return (out);
}

/* The SHA-256 of a token, as stored. */
void
token_hash(const char *token, unsigned char out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

/* The API name of a role. */
const char *
role_name(enum role role)
{
	return (role_names[role]);
}

/* Parse a role name; returns -1 if unknown. */
int
role_parse(const char *s, enum role *out)
{
	size_t	i;

	for (i = 0; i < sizeof role_names / sizeof role_names[0]; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum role)i;
			return (0);
		}
	}
	return (-1);
}

/* Free a user. */
void
user_free(struct user *u)
{
	if (u == NULL)
		return;
	free(u->login);
	free(u->name);
	free(u);
}

/*
 * Authenticate a request from its Authorization header (may be NULL).
 * Returns 0 and sets r->user, or -1 if the token is missing, malformed,
 * unknown or revoked (the caller answers 401).
 */
int
auth_request(struct req *r, const char *header)
{
	static const char *const q =
	    "SELECT t.id, u.id, u.login, u.name, u.institute_id, u.role, "
	    "coalesce(t.last_used, 0) FROM tokens t JOIN users u ON "
	    "u.id = t.user_id WHERE t.hash = :h AND t.kind = 'api' AND "
	    "t.revoked IS NULL";
	static const char *const q_used =
	    "UPDATE tokens SET last_used = :now WHERE id = :id";
	sqlite3_stmt	*st;
	unsigned char	 hash[32];
	struct user	*u;
	const char	*tok;
	time_t		 now, last;

	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return (-1);
	tok = header + 7;
	while (*tok == ' ')
		tok++;
	if (*tok == '\0' || strlen(tok) > 256)
		return (-1);
	token_hash(tok, hash);
	st = db_prepare(r->ctx, q);
	db_bind_blob(st, ":h", hash, sizeof hash);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	u = xcalloc(1, sizeof *u);
	u->token_id = sqlite3_column_int64(st, 0);
	u->id = sqlite3_column_int64(st, 1);
	u->login = db_text(st, 2);
	u->name = db_text(st, 3);
	u->institute_id = sqlite3_column_int64(st, 4);
	if (role_parse((const char *)sqlite3_column_text(st, 5), &u->role) == -1)
		u->role = ROLE_MEMBER;
	last = sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	r->user = u;

	/* Record use coarsely (hourly), to keep reads free of writes. */
	now = db_now(r->ctx);
	if (now - last > 3600 && r->ctx->txn_depth == 0) {
		st = db_prepare(r->ctx, q_used);
		db_bind_int(st, ":now", now);
		db_bind_int(st, ":id", u->token_id);
		if (db_step(st) != SQLITE_DONE)
			log_debug("%s: last_used not updated", __func__);
		sqlite3_reset(st);
	}
	return (0);
}

/* Does the request's user manage this instrument (or administer all)? */
int
auth_manages(struct req *r, int64_t instrument_id)
{
	static const char *const q =
	    "SELECT 1 FROM user_instruments WHERE user_id = :u AND "
	    "instrument_id = :i";
	sqlite3_stmt	*st;
	int		 yes;

	if (r->user == NULL)
		return (0);
	if (r->user->role == ROLE_ADMIN)
		return (1);
	if (r->user->role != ROLE_MANAGER)
		return (0);
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":u", r->user->id);
	db_bind_int(st, ":i", instrument_id);
	yes = db_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return (yes);
}

/*
 * Does the request's user manage an instrument of this category (or
 * administer all)?  Category-wide qualifications and quotas need it.
 */
int
auth_manages_category(struct req *r, const char *category)
{
	static const char *const q =
	    "SELECT 1 FROM user_instruments ui JOIN instruments i ON "
	    "i.id = ui.instrument_id WHERE ui.user_id = :u AND "
	    "i.category = :c LIMIT 1";
	sqlite3_stmt	*st;
	int		 yes;

	if (r->user == NULL)
		return (0);
	if (r->user->role == ROLE_ADMIN)
		return (1);
	if (r->user->role != ROLE_MANAGER)
		return (0);
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":u", r->user->id);
	db_bind_text(st, ":c", category);
	yes = db_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return (yes);
}

/*
 * Answer a DELETE of a row that covers an instrument or a whole category
 * (a quota, a qualification), r->args[0] being its id: q_find selects its
 * instrument_id and category and q_del deletes it, both by :id.  404 if
 * there is none, 403 unless the user manages what it covers, else the
 * row is deleted and audited as action in one transaction: 204.
 */
void
auth_scoped_delete(struct req *r, const char *q_find, const char *q_del,
    const char *what, const char *action)
{
	sqlite3_stmt	*st;
	char		*end, *category = NULL;
	int64_t		 id, iid;
	int		 rc, allowed;

	id = strtoll(r->args[0], &end, 10);
	st = db_prepare(r->ctx, q_find);
	db_bind_int(st, ":id", id);
	if (*end != '\0' || id <= 0 || db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_error(r, 404, "not_found", "no %s %s", what, r->args[0]);
		return;
	}
	iid = sqlite3_column_int64(st, 0);
	category = db_text(st, 1);
	sqlite3_reset(st);
	allowed = iid != 0 ? auth_manages(r, iid) :
	    auth_manages_category(r, category);
	free(category);
	if (!allowed) {
		api_error(r, 403, "forbidden", "only a manager of what the %s "
		    "covers (or an admin) may remove it", what);
		return;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q_del);
	db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id, action,
	    what, r->args[0], NULL)) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	api_reply_empty(r, 204);
}

/* Is the request's user a park manager of this site (or an admin)? */
int
auth_covers_site(struct req *r, int64_t site_id)
{
	static const char *const q =
	    "SELECT count(*), coalesce(sum(site_id = :s), 0) FROM user_sites "
	    "WHERE user_id = :u";
	sqlite3_stmt	*st;
	int		 yes = 0;

	if (r->user == NULL)
		return (0);
	if (r->user->role == ROLE_ADMIN)
		return (1);
	if (r->user->role != ROLE_PARK_MANAGER)
		return (0);
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":u", r->user->id);
	db_bind_int(st, ":s", site_id);
	if (db_step(st) == SQLITE_ROW)
		yes = sqlite3_column_int(st, 0) == 0 ||
		    sqlite3_column_int(st, 1) > 0;
	sqlite3_reset(st);
	return (yes);
}

/*
 * May the request's user see the details (user, purpose, project) of a
 * booking by user_id on instrument_id at site_id?  SPEC §4: its owner, the
 * instrument's managers, park managers of the site, admins.
 */
int
auth_sees_booking(struct req *r, int64_t user_id, int64_t instrument_id,
    int64_t site_id)
{
	if (r->user == NULL)
		return (0);
	if (r->user->id == user_id || r->user->role == ROLE_ADMIN)
		return (1);
	return (auth_manages(r, instrument_id) ||
	    auth_covers_site(r, site_id));
}
