/*
 * instrument.c: an instrument as the booking code sees it: its id, code,
 * status, site, the site's time zone and the parsed booking rules.  The
 * API's JSON form of an instrument lives in api-instruments.c.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

/*
 * Load the instrument with this code (or, if code is NULL, this id) into
 * *in.  Returns 0, or -1 if there is none.  The caller frees it with
 * instrument_free().  Opening hours that do not parse (they are checked on
 * the way in, so only a hand-edited database has them) leave it closed.
 */
int
instrument_load(struct yiqid *ctx, const char *code, int64_t id,
    struct instrument *in)
{
	static const char *const q =
	    "SELECT i.id, i.code, i.name, i.status, i.site_id, s.code, "
	    "s.timezone, i.owner_id, i.granularity_min, i.min_duration_min, "
	    "i.max_duration_min, i.advance_days, i.buffer_min, i.opening_hours, "
	    "i.requires_approval, i.requires_qualification, "
	    "i.priority_days, i.priority_scope = 'district' "
	    "FROM instruments i JOIN sites s ON s.id = i.site_id "
	    "WHERE (:code IS NOT NULL AND i.code = :code) OR "
	    "(:code IS NULL AND i.id = :id)";
	sqlite3_stmt	*st;
	char		*cause = NULL;
	const char	*hours;

	memset(in, 0, sizeof *in);
	st = db_prepare(ctx, q);
	db_bind_text(st, ":code", code);
	db_bind_int(st, ":id", id);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	in->id = sqlite3_column_int64(st, 0);
	in->code = db_text(st, 1);
	in->name = db_text(st, 2);
	in->status = db_text(st, 3);
	in->site_id = sqlite3_column_int64(st, 4);
	in->site = db_text(st, 5);
	in->zone = db_text(st, 6);
	in->owner_id = sqlite3_column_int64(st, 7);
	rules_defaults(&in->rules);
	in->rules.granularity_min = sqlite3_column_int(st, 8);
	in->rules.min_duration_min = sqlite3_column_int(st, 9);
	in->rules.max_duration_min = sqlite3_column_int(st, 10);
	in->rules.advance_days = sqlite3_column_int(st, 11);
	in->rules.buffer_min = sqlite3_column_int(st, 12);
	hours = (const char *)sqlite3_column_text(st, 13);
	if (hours_parse(hours != NULL ? hours : "", &in->rules.hours,
	    &cause) == -1) {
		log_warnx("instrument %s: bad opening hours: %s", in->code, cause);
		free(cause);
		memset(&in->rules.hours, 0, sizeof in->rules.hours);
	}
	in->rules.requires_approval = sqlite3_column_int(st, 14);
	in->rules.requires_qualification = sqlite3_column_int(st, 15);
	in->rules.priority_days = sqlite3_column_int(st, 16);
	in->rules.priority_district = sqlite3_column_int(st, 17);
	sqlite3_reset(st);
	return (0);
}

/* Free what instrument_load() allocated. */
void
instrument_free(struct instrument *in)
{
	free(in->code);
	free(in->name);
	free(in->status);
	free(in->site);
	free(in->zone);
	memset(in, 0, sizeof *in);
}
