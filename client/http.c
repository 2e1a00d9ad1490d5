/*
 * http.c: the client's side of the HTTP API, a thin wrapper round one
 * libcurl easy handle.
 *
 * http_request() sends one request and hands back the status and the JSON
 * body; it fails only when no answer came (or the answer was not JSON), and
 * then returns the exit status to use: 7 when the server cannot be reached.
 * api_call() adds what every command wants on top: the token check, the
 * error sentence on stderr for 4xx/5xx (with the clash and the next free
 * slot for a 409), the error body on stdout with --json, and the mapping of
 * HTTP statuses to the exit statuses of SPEC §7.  Only the Authorization
 * header carries the token; it is never printed.
 */

#include "yiqi.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define HTTP_CONNECT_TIMEOUT	5L	/* seconds */
#define HTTP_TIMEOUT		60L	/* seconds, whole request */

/* The body of one response as it arrives. */
struct http_buffer {
	char	*data;
	size_t	 len;
	int	 overflow;
};

static CURL	*http_curl;
static int	 http_global;

/* Set up libcurl; call once before any request. */
int
http_init(char **cause)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		xasprintf(cause, "cannot initialise libcurl");
		return (-1);
	}
	http_global = 1;
	if ((http_curl = curl_easy_init()) == NULL) {
		xasprintf(cause, "cannot initialise libcurl");
		return (-1);
	}
	return (0);
}

/* Release the libcurl handle and libcurl's global state. */
void
http_free(void)
{
	if (http_curl != NULL)
		curl_easy_cleanup(http_curl);
	http_curl = NULL;
	if (http_global)
		curl_global_cleanup();
	http_global = 0;
}

static size_t
http_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_buffer	*buf = arg;
	size_t			 n = size * nmemb;

	if (n > YIQI_MAX_RESPONSE - buf->len) {
		buf->overflow = 1;
		return (0);
	}
	buf->data = xreallocarray(buf->data, buf->len + n + 1, 1);
	memcpy(buf->data + buf->len, ptr, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return (n);
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
char *
http_escape(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *p;
	unsigned char		 ch;

	p = out = xmalloc(strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		ch = *s;
		if (isalnum(ch) || strchr("-._~", ch) != NULL)
			*p++ = ch;
		else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = '\0';
	return (out);
}

/* Append key=value (escaped) to the query of *path; skips a NULL value. */
void
http_query(char **path, const char *key, const char *value)
{
	char	*escaped, *new;

	if (value == NULL)
		return;
	escaped = http_escape(value);
	xasprintf(&new, "%s%c%s=%s", *path, strchr(*path, '?') == NULL ?
	    '?' : '&', key, escaped);
	free(escaped);
	free(*path);
	*path = new;
}

/*
 * Send one request with a raw body (data may be NULL) and read the answer.
 * Returns 0 with *status and *response (NULL for an empty body, owned by the
 * caller); or an exit status with *cause when no usable answer came.
 */
int
http_request_raw(struct client *c, const char *method, const char *path,
    const char *data, size_t len, const char *ctype, json_t **response,
    long *status, char **cause)
{
	struct curl_slist	*headers = NULL;
	struct http_buffer	 buf;
	json_error_t		 error;
	CURLcode		 code;
	char			 errbuf[CURL_ERROR_SIZE], *url, *line;
	int			 rc = YIQI_EXIT_FAIL;

	*response = NULL;
	*status = 0;
	*cause = NULL;
	memset(&buf, 0, sizeof buf);
	errbuf[0] = '\0';

	xasprintf(&url, "%s" YIQI_API_PREFIX "%s", c->server, path);
	curl_easy_reset(http_curl);
	curl_easy_setopt(http_curl, CURLOPT_URL, url);
	curl_easy_setopt(http_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(http_curl, CURLOPT_CONNECTTIMEOUT,
	    HTTP_CONNECT_TIMEOUT);
	curl_easy_setopt(http_curl, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(http_curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(http_curl, CURLOPT_USERAGENT,
	    "yiqi/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(http_curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(http_curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(http_curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(http_curl, CURLOPT_WRITEDATA, &buf);

	if (strcmp(method, "GET") != 0) {
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(http_curl, CURLOPT_CUSTOMREQUEST,
			    method);
		if (data != NULL || strcmp(method, "POST") == 0) {
			curl_easy_setopt(http_curl, CURLOPT_POSTFIELDS,
			    data != NULL ? data : "");
			curl_easy_setopt(http_curl, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(data != NULL ? len : 0));
		}
	}
	headers = curl_slist_append(headers, "Accept: application/json");
	headers = curl_slist_append(headers, "Expect:");
	if (data == NULL)
		headers = curl_slist_append(headers, "Content-Type:");
	else if (ctype != NULL) {
		xasprintf(&line, "Content-Type: %s", ctype);
		headers = curl_slist_append(headers, line);
		free(line);
	}
	if (c->token != NULL && *c->token != '\0') {
		xasprintf(&line, "Authorization: Bearer %s", c->token);
		headers = curl_slist_append(headers, line);
		explicit_bzero(line, strlen(line));
		free(line);
	}
	curl_easy_setopt(http_curl, CURLOPT_HTTPHEADER, headers);

	code = curl_easy_perform(http_curl);
	curl_easy_getinfo(http_curl, CURLINFO_RESPONSE_CODE, status);
	if (code != CURLE_OK) {
		if (buf.overflow) {
			xasprintf(cause, "the answer from %s is larger than "
			    "%d MiB; narrow the request", c->server,
			    YIQI_MAX_RESPONSE >> 20);
		} else if (code == CURLE_URL_MALFORMAT ||
		    code == CURLE_UNSUPPORTED_PROTOCOL) {
			xasprintf(cause, "cannot use the server URL %s (%s); "
			    "check --server or YIQI_SERVER", c->server,
			    *errbuf != '\0' ? errbuf :
			    curl_easy_strerror(code));
			rc = YIQI_EXIT_USAGE;
		} else {
			xasprintf(cause, "cannot reach the server at %s (%s); "
			    "check --server, YIQI_SERVER or the network, and "
			    "that yiqid is running", c->server,
			    *errbuf != '\0' ? errbuf :
			    curl_easy_strerror(code));
			rc = YIQI_EXIT_UNREACHABLE;
		}
		goto out;
	}

	if (c->want_text && *status >= 200 && *status < 300) {
		c->text = buf.data;	/* CSV, HTML: handed over as it is */
		c->textlen = buf.len;
		buf.data = NULL;
		rc = 0;
		goto out;
	}
	if (buf.len != 0) {
		*response = json_loadb(buf.data, buf.len, 0, &error);
		if (*response == NULL && *status < 400) {
			xasprintf(cause, "the server at %s answered %ld with "
			    "something that is not JSON; check that --server "
			    "points at yiqid", c->server, *status);
			goto out;
		}
	}
	rc = 0;
out:
	curl_slist_free_all(headers);
	free(buf.data);
	free(url);
	return (rc);
}

/*
 * Send one request with a JSON body (or none) and read the answer, as
 * http_request_raw does.
 */
int
http_request(struct client *c, const char *method, const char *path,
    json_t *body, json_t **response, long *status, char **cause)
{
	char	*text = NULL;
	int	 rc;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			xasprintf(cause, "cannot encode the request");
			return (YIQI_EXIT_FAIL);
		}
	}
	rc = http_request_raw(c, method, path, text, text != NULL ?
	    strlen(text) : 0, "application/json; charset=utf-8", response,
	    status, cause);
	free(text);
	return (rc);
}

/* Map an HTTP status of an error answer to an exit status (SPEC §7). */
int
api_exit_status(long status)
{
	switch (status) {
	case 401:
	case 403:
		return (YIQI_EXIT_AUTH);
	case 404:
		return (YIQI_EXIT_NOTFOUND);
	case 409:
		return (YIQI_EXIT_CLASH);
	case 422:
		return (YIQI_EXIT_RULE);
	default:
		return (YIQI_EXIT_FAIL);
	}
}

/* Return the server's message without its final full stop, allocated. */
static char *
api_message(json_t *error, const char *fallback)
{
	const char	*msg;
	char		*out;
	size_t		 n;

	msg = json_string_value(json_object_get(error, "message"));
	if (msg == NULL || *msg == '\0')
		msg = fallback;
	out = output_clean(msg);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
		out[--n] = '\0';
	return (out);
}

/* Say what a 409 clashes with and where the next free slot is. */
static void
api_clash(struct client *c, json_t *error, const char *msg)
{
	json_t		*conflicts, *first, *next;
	const char	*instrument, *institute, *start, *end;
	char		*when, *who, *free_at, hint[32];
	size_t		 n;

	conflicts = json_object_get(error, "conflicts");
	first = json_array_get(conflicts, 0);
	next = json_object_get(error, "next_free");
	if (!json_is_object(first)) {
		fprintf(stderr, "yiqi: %s", msg);
		goto next;
	}

	instrument = json_string_value(json_object_get(first, "instrument"));
	if (instrument == NULL)
		instrument = json_string_value(json_object_get(error,
		    "instrument"));
	institute = json_string_value(json_object_get(first, "institute"));
	when = output_interval(output_str(first, "start"),
	    output_str(first, "end"));
	who = output_clean(institute != NULL ? institute : "busy");
	fprintf(stderr, "yiqi: %s is already booked %s (%s)", instrument !=
	    NULL ? instrument : "the instrument", when, who);
	free(who);
	free(when);
	n = json_array_size(conflicts);
	if (n > 1)
		fprintf(stderr, " and %zu more time%s", n - 1, n > 2 ? "s" :
		    "");

next:
	if (!json_is_object(next)) {
		if (json_object_get(error, "next_free") != NULL)
			fprintf(stderr, "; there is no free slot of that "
			    "length within the booking window, so try another "
			    "instrument with yiqi find.\n");
		else
			fprintf(stderr, "; pick another time (yiqi free shows "
			    "the free ones).\n");
		return;
	}
	start = output_str(next, "start");
	end = output_str(next, "end");
	free_at = output_interval(start, end);
	fprintf(stderr, "; the next free slot is %s. %s --start \"%s\".\n",
	    free_at, c->clash_hint != NULL ? c->clash_hint :
	    "Use that instead with", output_time(start, hint, sizeof hint));
	free(free_at);
}

/* Print one sentence for an error answer: the message and what to do. */
static void
api_error(struct client *c, long status, json_t *response)
{
	json_t		*error;
	const char	*code, *field, *rule;
	char		*msg, fallback[64];
	json_int_t	 line;

	error = json_object_get(response, "error");
	code = json_string_value(json_object_get(error, "code"));
	snprintf(fallback, sizeof fallback, "the server answered HTTP %ld",
	    status);
	msg = api_message(error, fallback);

	switch (status) {
	case 400:
		field = json_string_value(json_object_get(error, "field"));
		line = json_integer_value(json_object_get(error, "line"));
		fprintf(stderr, "yiqi: %s", msg);
		if (line > 0 && strstr(msg, "line") == NULL)
			fprintf(stderr, " (line %lld)", (long long)line);
		if (field != NULL && strstr(msg, field) == NULL)
			fprintf(stderr, " (field %s)", field);
		fprintf(stderr, "; correct it and try again.\n");
		break;
	case 401:
		if (c->login)
			fprintf(stderr, "yiqi: %s; check the token, or ask an "
			    "admin for a new one.\n", msg);
		else
			fprintf(stderr, "yiqi: %s; run yiqi login --server URL "
			    "--token TOKEN, or check --token and "
			    "YIQI_TOKEN.\n", msg);
		break;
	case 403:
		fprintf(stderr, "yiqi: %s; ask a manager or an admin if you "
		    "need this done.\n", msg);
		break;
	case 404:
		fprintf(stderr, "yiqi: %s; check the code or number (yiqi "
		    "instruments and yiqi list show them).\n", msg);
		break;
	case 409:
		if (code != NULL && strcmp(code, "conflict") == 0)
			api_clash(c, error, msg);
		else
			fprintf(stderr, "yiqi: %s; pick another code or "
			    "change the existing one.\n", msg);
		break;
	case 413:
		fprintf(stderr, "yiqi: %s; send less at once.\n", msg);
		break;
	case 422:
		rule = json_string_value(json_object_get(error, "rule"));
		if (rule != NULL && strcmp(rule, "status") == 0)
			fprintf(stderr, "yiqi: %s; only pending and confirmed "
			    "bookings can be changed.\n", msg);
		else if (rule != NULL && strstr(msg, rule) == NULL)
			fprintf(stderr, "yiqi: %s (rule %s); yiqi show "
			    "INSTRUMENT lists the rules.\n", msg, rule);
		else
			fprintf(stderr, "yiqi: %s; yiqi show INSTRUMENT lists "
			    "the rules.\n", msg);
		break;
	default:
		if (status >= 500)
			fprintf(stderr, "yiqi: %s; try again later, or tell "
			    "the operator if it persists.\n", msg);
		else
			fprintf(stderr, "yiqi: %s.\n", msg);
		break;
	}
	free(msg);
}

/*
 * Make one API call with a raw body: check that there is a token, print
 * errors, and return 0 with *out (owned by the caller, NULL if empty) or
 * the exit status.
 */
int
api_call_raw(struct client *c, const char *method, const char *path,
    const char *data, size_t len, const char *ctype, json_t **out)
{
	json_t	*response;
	char	*cause;
	long	 status;
	int	 rc;

	*out = NULL;
	if ((rc = client_resolve(c)) != 0)
		return (rc);
	if (c->token == NULL || *c->token == '\0') {
		fprintf(stderr, "yiqi: no API token; run yiqi login --server "
		    "URL --token TOKEN once, or pass --token or set "
		    "YIQI_TOKEN.\n");
		return (YIQI_EXIT_AUTH);
	}
	rc = http_request_raw(c, method, path, data, len, ctype, &response,
	    &status, &cause);
	if (rc != 0) {
		fprintf(stderr, "yiqi: %s.\n", cause);
		free(cause);
		return (rc);
	}
	if (status < 200 || status >= 300) {
		api_error(c, status, response);
		if (c->json)
			output_json(response);
		json_decref(response);
		return (api_exit_status(status));
	}
	*out = response;
	return (0);
}

/* Make one API call with a JSON body (or none), as api_call_raw does. */
int
api_call(struct client *c, const char *method, const char *path,
    json_t *body, json_t **out)
{
	char	*text = NULL;
	int	 rc;

	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "yiqi: cannot encode the request.\n");
		return (YIQI_EXIT_FAIL);
	}
	rc = api_call_raw(c, method, path, text, text != NULL ? strlen(text) :
	    0, "application/json; charset=utf-8", out);
	free(text);
	return (rc);
}

/*
 * The same on one numbered object: /COLLECTION/ID, or /COLLECTION/ID/ACTION
 * when action is not NULL.
 */
int
api_call_id(struct client *c, const char *method, const char *collection,
    long long id, const char *action, json_t *body, json_t **out)
{
	char	*path;
	int	 rc;

	xasprintf(&path, "/%s/%lld%s%s", collection, id, action != NULL ? "/" :
	    "", action != NULL ? action : "");
	rc = api_call(c, method, path, body, out);
	free(path);
	return (rc);
}

/*
 * GET an absolute URL (a feed) without the API token, with one optional
 * extra header.  Returns 0 with *status and the raw body in *body (owned
 * by the caller, NUL-terminated, *len octets), or an exit status with
 * *cause when no answer came.
 */
int
http_fetch(const char *url, const char *header, char **body, size_t *len,
    long *status, char **cause)
{
	struct curl_slist	*headers = NULL;
	struct http_buffer	 buf;
	CURLcode		 code;
	char			 errbuf[CURL_ERROR_SIZE];

	*body = NULL;
	*len = 0;
	*status = 0;
	*cause = NULL;
	memset(&buf, 0, sizeof buf);
	errbuf[0] = '\0';
	curl_easy_reset(http_curl);
	curl_easy_setopt(http_curl, CURLOPT_URL, url);
	curl_easy_setopt(http_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(http_curl, CURLOPT_CONNECTTIMEOUT,
	    HTTP_CONNECT_TIMEOUT);
	curl_easy_setopt(http_curl, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(http_curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(http_curl, CURLOPT_USERAGENT,
	    "yiqi/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(http_curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(http_curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(http_curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(http_curl, CURLOPT_WRITEDATA, &buf);
	if (header != NULL)
		headers = curl_slist_append(headers, header);
	curl_easy_setopt(http_curl, CURLOPT_HTTPHEADER, headers);
	code = curl_easy_perform(http_curl);
	curl_easy_getinfo(http_curl, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(headers);
	if (code != CURLE_OK) {
		free(buf.data);
		if (buf.overflow) {
			xasprintf(cause, "the feed is larger than %d MiB; "
			    "narrow it with --from and --to",
			    YIQI_MAX_RESPONSE >> 20);
			return (YIQI_EXIT_FAIL);
		}
		xasprintf(cause, "cannot reach the server (%s); check "
		    "--server, YIQI_SERVER or the network, and that yiqid is "
		    "running", *errbuf != '\0' ? errbuf :
		    curl_easy_strerror(code));
		return (YIQI_EXIT_UNREACHABLE);
	}
	if (buf.data == NULL)
		buf.data = xstrdup("");
	*body = buf.data;
	*len = buf.len;
	return (0);
}
