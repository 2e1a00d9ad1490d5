/*
 * cmd-admin-instruments.c: "yiqi admin instruments add|set" (POST
 * /instruments, PATCH /instruments/{code}) and "yiqi admin import"
 * (POST /import/instruments with a CSV body).
 *
 * The instrument options come from one table that says which JSON member
 * each sets, whether it is a booking rule (sent under "rules") and how its
 * value is checked; "set" sends only the options given (a merge patch).
 */

#include "yiqi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum cmd_field_type {
	FIELD_STRING,
	FIELD_MINUTES,
	FIELD_DAYS,
	FIELD_FEN,
	FIELD_YUAN,
	FIELD_BOOL
};

/* One instrument option; its getopt value is 256 plus its index. */
struct cmd_field {
	const char		*option;
	const char		*member;
	int			 rule;
	enum cmd_field_type	 type;
};

/* Sorted by option; cmd_admin_instrument_options follows the same order. */
static const struct cmd_field cmd_fields[] = {
	{ "acquisition-date", "acquisition_date", 0, FIELD_STRING },
	{ "advance-days", "advance_days", 1, FIELD_DAYS },
	{ "buffer", "buffer_min", 1, FIELD_MINUTES },
	{ "category", "category", 0, FIELD_STRING },
	{ "classification-code", "classification_code", 0, FIELD_STRING },
	{ "description", "description", 0, FIELD_STRING },
	{ "granularity", "granularity_min", 1, FIELD_MINUTES },
	{ "manufacturer", "manufacturer", 0, FIELD_STRING },
	{ "max-duration", "max_duration_min", 1, FIELD_MINUTES },
	{ "min-duration", "min_duration_min", 1, FIELD_MINUTES },
	{ "model", "model", 0, FIELD_STRING },
	{ "name", "name", 0, FIELD_STRING },
	{ "opening-hours", "opening_hours", 1, FIELD_STRING },
	{ "owner", "owner", 0, FIELD_STRING },
	{ "priority-days", "priority_days", 1, FIELD_DAYS },
	{ "priority-scope", "priority_scope", 1, FIELD_STRING },
	{ "purchase-value", "purchase_value", 0, FIELD_YUAN },
	{ "rate-external", "rate_external", 1, FIELD_FEN },
	{ "rate-internal", "rate_internal", 1, FIELD_FEN },
	{ "requires-approval", "requires_approval", 1, FIELD_BOOL },
	{ "requires-qualification", "requires_qualification", 1, FIELD_BOOL },
	{ "responsible-person", "responsible_person", 0, FIELD_STRING },
	{ "room", "room", 0, FIELD_STRING },
	{ "site", "site", 0, FIELD_STRING },
	{ "status", "status", 0, FIELD_STRING },
	{ NULL, NULL, 0, FIELD_STRING }
};

static const struct option cmd_admin_instrument_options[] = {
	{ "acquisition-date", required_argument, NULL, 256 },
	{ "advance-days", required_argument, NULL, 257 },
	{ "buffer", required_argument, NULL, 258 },
	{ "category", required_argument, NULL, 259 },
	{ "classification-code", required_argument, NULL, 260 },
	{ "description", required_argument, NULL, 261 },
	{ "granularity", required_argument, NULL, 262 },
	{ "manufacturer", required_argument, NULL, 263 },
	{ "max-duration", required_argument, NULL, 264 },
	{ "min-duration", required_argument, NULL, 265 },
	{ "model", required_argument, NULL, 266 },
	{ "name", required_argument, NULL, 267 },
	{ "opening-hours", required_argument, NULL, 268 },
	{ "owner", required_argument, NULL, 269 },
	{ "priority-days", required_argument, NULL, 270 },
	{ "priority-scope", required_argument, NULL, 271 },
	{ "purchase-value", required_argument, NULL, 272 },
	{ "rate-external", required_argument, NULL, 273 },
	{ "rate-internal", required_argument, NULL, 274 },
	{ "requires-approval", required_argument, NULL, 275 },
	{ "requires-qualification", required_argument, NULL, 276 },
	{ "responsible-person", required_argument, NULL, 277 },
	{ "room", required_argument, NULL, 278 },
	{ "site", required_argument, NULL, 279 },
	{ "status", required_argument, NULL, 280 },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_instruments_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_import_exec(struct client *,
		    const struct cmd_entry *, int, char **);

#define CMD_ADMIN_INSTRUMENT_HELP \
	"  --name N                   its name\n" \
	"  --site S                   the site it stands at\n" \
	"  --owner I                  the institute that owns it\n" \
	"  --category C               e.g. mass-spectrometry, nmr, xrd\n" \
	"  --manufacturer M, --model M, --room R, --description D\n" \
	"  --status S                 active, maintenance or retired\n" \
	"Booking rules:\n" \
	"  --granularity MIN          starts and ends on multiples of MIN " \
	"(30)\n" \
	"  --min-duration MIN         the shortest booking (30)\n" \
	"  --max-duration MIN         the longest booking (480)\n" \
	"  --advance-days N           how far ahead one may book (90)\n" \
	"  --buffer MIN               free time kept between bookings (0)\n" \
	"  --opening-hours TEXT       24/7 or e.g. \"Mon-Fri 08:00-20:00; " \
	"Sat 09:00-13:00\"\n" \
	"  --requires-approval yes|no       a manager approves each " \
	"booking (no)\n" \
	"  --requires-qualification yes|no  only qualified users book (no)\n" \
	"  --priority-days N          later slots only for the owner's " \
	"users (0: off)\n" \
	"  --priority-scope S         institute or district: who counts as " \
	"home\n" \
	"  --rate-internal FEN        price an hour for the owner's users, " \
	"in fen (0)\n" \
	"  --rate-external FEN        price an hour for everyone else, in " \
	"fen (0)\n" \
	"Registry (for the annual evaluation; admins only):\n" \
	"  --purchase-value YUAN      purchase value in yuan, e.g. " \
	"1250000.50\n" \
	"  --acquisition-date DATE    YYYY-MM-DD, or '' when unknown\n" \
	"  --classification-code C    national classification code\n" \
	"  --responsible-person P     the person responsible for it\n"

const struct cmd_entry cmd_admin_instruments_add_entry = {
	.name = "instruments add",
	.about = "add an instrument",
	.usage = "CODE --name N --site S --owner I [--category C] [options]",
	.help = "  CODE                       the instrument code, e.g. "
	    "HC-ICPMS-01\n" CMD_ADMIN_INSTRUMENT_HELP,
	.options = cmd_admin_instrument_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_instruments_exec
};

const struct cmd_entry cmd_admin_instruments_set_entry = {
	.name = "instruments set",
	.about = "change an instrument, its status or its booking rules",
	.usage = "CODE [--status S] [options]",
	.help = "  CODE                       the instrument to change\n"
	    CMD_ADMIN_INSTRUMENT_HELP
	    "\nOnly what is given changes.  Managers may change status, room, "
	    "description\nand rules of the instruments they manage.\n",
	.options = cmd_admin_instrument_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_instruments_exec
};

const struct cmd_entry cmd_admin_import_entry = {
	.name = "import",
	.about = "create or update instruments from a CSV file",
	.usage = "FILE.csv | -",
	.help =
	    "  FILE.csv          the inventory, with a header row naming the "
	    "columns\n"
	    "                    (code, name, site and owner required); - "
	    "reads stdin\n"
	    "\nAll or nothing: a bad row changes nothing and is reported with "
	    "its line.\nAt most 16 MiB.\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_import_exec
};

/*
 * An amount in yuan with at most two decimals ("1250000.50") in fen;
 * -1 after printing why if it is not one or exceeds max fen.
 */
static int
cmd_admin_yuan(const char *name, const char *text, long long max,
    long long *out)
{
	const char	*p = text;
	long long	 v = 0;
	int		 digits = 0, decimals = -1;
	char		*clean;

	for (; *p != '\0'; p++) {
		if (*p == '.' && decimals == -1 && digits > 0) {
			decimals = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || decimals == 2 || v > max / 10)
			goto bad;
		v = v * 10 + (*p - '0');
		digits++;
		if (decimals >= 0)
			decimals++;
	}
	if (digits == 0 || decimals == 0)
		goto bad;
	for (decimals = decimals < 0 ? 0 : decimals; decimals < 2;
	    decimals++) {
		if (v > max / 10)
			goto bad;
		v *= 10;
	}
	if (v > max)
		goto bad;
	*out = v;
	return (0);
bad:
	clean = output_clean(text);
	fprintf(stderr, "yiqi: %s must be an amount in yuan from 0 to %lld "
	    "with at most 2 decimals (e.g. 1250000.50), not '%s'.\n", name,
	    max / 100, clean);
	free(clean);
	return (-1);
}

/* Check an option's value and set it in obj; -1 after printing why. */
static int
cmd_admin_field(const struct cmd_field *f, const char *value, json_t *obj)
{
	long long	 n;
	char		 name[64];

	snprintf(name, sizeof name, "--%s", f->option);
	switch (f->type) {
	case FIELD_STRING:
		json_object_set_new(obj, f->member, json_string(value));
		return (0);
	case FIELD_MINUTES:
		if (cmd_number(name, value, 0, 527040, &n) != 0)
			return (-1);
		break;
	case FIELD_DAYS:
		if (cmd_number(name, value, 0, 3660, &n) != 0)
			return (-1);
		break;
	case FIELD_FEN:
		if (cmd_number(name, value, 0, 1000000000000LL, &n) != 0)
			return (-1);
		break;
	case FIELD_YUAN:
		if (cmd_admin_yuan(name, value, 10000000000000LL, &n) != 0)
			return (-1);
		break;
	case FIELD_BOOL:
		if (strcasecmp(value, "yes") == 0 ||
		    strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
			json_object_set_new(obj, f->member, json_true());
		else if (strcasecmp(value, "no") == 0 ||
		    strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			json_object_set_new(obj, f->member, json_false());
		else {
			fprintf(stderr, "yiqi: %s must be yes or no, not "
			    "'%s'.\n", name, value);
			return (-1);
		}
		return (0);
	}
	json_object_set_new(obj, f->member, json_integer(n));
	return (0);
}

static int
cmd_admin_instruments_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	const struct cmd_field	*f;
	json_t			*body, *rules, *resp;
	char			*code, *path;
	int			 ch, rc = YIQI_EXIT_USAGE;
	int			 add = (e == &cmd_admin_instruments_add_entry);

	body = json_object();
	rules = json_object();
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch < 256 || ch >= 256 + (int)(sizeof cmd_fields /
		    sizeof cmd_fields[0]) - 1) {
			cmd_usage(e, NULL);
			goto out;
		}
		f = &cmd_fields[ch - 256];
		if (cmd_admin_field(f, optarg, f->rule ? rules : body) != 0)
			goto out;
	}
	if (argc - optind != 1) {
		cmd_usage(e, "give one instrument code");
		goto out;
	}
	if (add && (json_object_get(body, "name") == NULL ||
	    json_object_get(body, "site") == NULL ||
	    json_object_get(body, "owner") == NULL)) {
		cmd_usage(e, "give the instrument's --name, --site and "
		    "--owner");
		goto out;
	}
	if (!add && json_object_size(body) == 0 && json_object_size(rules) ==
	    0) {
		cmd_usage(e, "say what to change");
		goto out;
	}
	if (json_object_size(rules) != 0)
		json_object_set(body, "rules", rules);

	if (add) {
		json_object_set_new(body, "code", json_string(argv[optind]));
		rc = api_call(c, "POST", "/instruments", body, &resp);
	} else {
		code = http_escape(argv[optind]);
		xasprintf(&path, "/instruments/%s", code);
		free(code);
		rc = api_call(c, "PATCH", path, body, &resp);
		free(path);
	}
	if (rc != 0)
		goto out;
	if (c->json)
		output_json(resp);
	else if (add)
		printf("Added instrument %s: %s at %s, owned by %s (%s).\n",
		    output_str(resp, "code"), output_str(resp, "name"),
		    output_str(resp, "site"), output_str(resp, "owner"),
		    output_str(resp, "status"));
	else
		printf("Changed instrument %s (%s); yiqi show %s shows it.\n",
		    output_str(resp, "code"), output_str(resp, "status"),
		    output_str(resp, "code"));
	json_decref(resp);
out:
	json_decref(rules);
	json_decref(body);
	return (rc);
}

/* Read a whole file (or stdin for "-") of at most YIQI_MAX_UPLOAD bytes. */
static char *
cmd_admin_read(const char *file, size_t *lenp)
{
	FILE	*f;
	char	*data = NULL;
	size_t	 len = 0, size = 0, n;

	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "yiqi: cannot open %s: %s.\n", file,
		    strerror(errno));
		return (NULL);
	}
	for (;;) {
		if (len == size) {
			size = size == 0 ? 65536 : size * 2;
			if (size > YIQI_MAX_UPLOAD + 1)
				size = YIQI_MAX_UPLOAD + 1;
			data = xreallocarray(data, size, 1);
		}
		n = fread(data + len, 1, size - len, f);
		len += n;
		if (len > YIQI_MAX_UPLOAD) {
			fprintf(stderr, "yiqi: %s is larger than %d MiB; split "
			    "it and import the parts.\n", file,
			    YIQI_MAX_UPLOAD >> 20);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "yiqi: cannot read %s: %s.\n", file,
		    strerror(errno));
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	*lenp = len;
	return (data);
fail:
	if (f != stdin)
		fclose(f);
	free(data);
	return (NULL);
}

static int
cmd_admin_import_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	json_t	*resp;
	char	*data;
	size_t	 len;
	int	 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1)
		return (cmd_usage(e, NULL));
	if (argc - optind != 1)
		return (cmd_usage(e, "give one CSV file (or - for stdin)"));

	if ((data = cmd_admin_read(argv[optind], &len)) == NULL)
		return (YIQI_EXIT_FAIL);
	if (len == 0) {
		free(data);
		fprintf(stderr, "yiqi: %s is empty; it needs a header row and "
		    "one row per instrument.\n", argv[optind]);
		return (YIQI_EXIT_FAIL);
	}
	rc = api_call_raw(c, "POST", "/import/instruments", data, len,
	    "text/csv; charset=utf-8", &resp);
	free(data);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		printf("Imported %s: %lld created, %lld updated.\n",
		    strcmp(argv[optind], "-") == 0 ? "stdin" : argv[optind],
		    (long long)json_integer_value(json_object_get(resp,
		    "created")), (long long)json_integer_value(
		    json_object_get(resp, "updated")));
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
