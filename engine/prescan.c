/*
 * prescan.c - the raw bytes of a message measured before GMime sees them.
 *
 * GLib aborts the process when an allocation fails, and GMime's objects
 * cost far more than the bytes they come from: about 600 bytes for a
 * four-byte header line "a:b\n", over a kilobyte for an empty part
 * "--b\n\n" (24 MB of either took 3.7 and 5.2 GB).  A message within the
 * size limit can still be a memory bomb, so its header fields and MIME
 * parts are counted here, on the bytes, twice:
 *
 * The model counts them as GMime will split the message, for the limits
 * as configured (and the finding names the limit):
 *   - a header block runs to the first empty line: the message's own at
 *     the start, a part's after each boundary delimiter line, an attached
 *     message's after the header block of a message/rfc822, message/news
 *     or message/global part (or of a part of a multipart/digest that
 *     names no type) that is not base64, quoted-printable or uuencoded
 *     (GMime keeps those as they are);
 *   - a line is a delimiter when, with trailing blanks removed, it is
 *     "--" and the boundary of an open multipart, and a close delimiter
 *     with "--" after it (GMime matches whole lines; an outer delimiter
 *     closes the inner multiparts); boundaries are read from Content-Type
 *     as GMime reads them (type and subtype as tokens, anything before
 *     the first ";" skipped, parameters until one is malformed, values
 *     quoted or up to the next ";");
 *   - every header block is one MIME object of the view (the walk in
 *     message.c counts the same objects).
 * A model can be fooled where GMime reads a header differently (an
 * RFC 2047-encoded boundary, say), so a ceiling that nothing fools backs
 * it: GMime makes a header field only from a line that has a name
 * without blanks or control characters and then a colon, and a part only
 * after a line that starts with "--".  Lines of either kind anywhere in
 * the message are counted too, and more than RG_PRESCAN_FIELD_SLACK and
 * RG_PRESCAN_PART_SLACK times the limits are refused: what GMime can
 * then spend is bounded whatever the model missed.
 *
 * On the way it finds what makes MIME ambiguous, that is read one way by
 * GMime and another by a parser that follows RFC 2046 to the letter (which
 * takes any line that merely starts with "--" and a boundary for a
 * delimiter): a boundary that is empty, longer than RFC 2046's 70
 * characters or with characters it does not allow, encoded (RFC 2047 or
 * 2231), the same as an enclosing one or a prefix of it (or it of the
 * new one), and body lines that start with a boundary but are not a
 * delimiter of it.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

/* RFC 2046: a boundary has 1 to 70 characters */
#define BOUNDARY_MAX 70
/* shown of a boundary in a finding */
#define SHOW_MAX 24

struct level {
	char *boundary;            /* "--" + boundary */
	size_t len;
	int digest;                /* multipart/digest: parts default to
	                              message/rfc822 */
};

struct prescan {
	const struct rg_settings *settings;
	struct rg_prescan *out;
	/* open multiparts, outermost first */
	struct level *levels;
	size_t n_levels, cap_levels;
	/* the header block being read */
	int in_header;
	size_t block_start;        /* offset of its first byte */
	int part_of_digest;        /* a part of a multipart/digest */
	GString *content_type;     /* its last Content-Type field */
	GString *encoding;         /* its last Content-Transfer-Encoding */
	GString *field;            /* where continuation lines go, or NULL */
};

static void
set_limit(struct prescan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_limit(struct prescan *p, const char *fmt, ...)
{
	va_list ap;

	if (p->out->limit != NULL)
		return;
	va_start(ap, fmt);
	p->out->limit = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static void
set_ambiguous(struct prescan *p, const char *why, const char *boundary,
              size_t len)
{
	char *shown;

	if (p->out->ambiguous != NULL)
		return;
	shown = g_strndup(boundary, MIN(len, SHOW_MAX));
	/* the message's bytes: printable ASCII only in a finding */
	for (char *c = shown; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	p->out->ambiguous = g_strdup_printf("ambiguous MIME: %s \"%s%s\"",
	                                    why, shown,
	                                    len > SHOW_MAX ? "..." : "");
	g_free(shown);
}

/* token_char - c may be in an RFC 2045 token (a type or subtype ends
 * at anything else, a control character too, as GMime reads it) */
static int
token_char(char c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`{|}~",
	                                                 c) != NULL);
}

/* skip_cfws - past blanks, line breaks and (nested) comments */
static size_t
skip_cfws(const char *v, size_t n, size_t i)
{
	while (i < n) {
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
		    v[i] == '\n') {
			i++;
		} else if (v[i] == '(') {
			int depth = 0;

			for (; i < n; i++) {
				if (v[i] == '\\' && i + 1 < n)
					i++;
				else if (v[i] == '(')
					depth++;
				else if (v[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
		} else {
			break;
		}
	}
	return i;
}

/* param_value - a parameter value at v[i..n) into out (a quoted string,
 * or everything up to the next ';' without trailing blanks, as GMime's
 * loose mode reads it); returns where it ends */
static size_t
param_value(const char *v, size_t n, size_t i, GString *out)
{
	size_t start;

	g_string_truncate(out, 0);
	if (i < n && v[i] == '"') {
		for (i++; i < n && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			g_string_append_c(out, v[i]);
		}
		return i < n ? i + 1 : n;
	}
	start = i;
	while (i < n && v[i] != ';')
		i++;
	g_string_append_len(out, v + start, (gssize)(i - start));
	while (out->len > 0 && (out->str[out->len - 1] == ' ' ||
	                        out->str[out->len - 1] == '\t' ||
	                        out->str[out->len - 1] == '\r' ||
	                        out->str[out->len - 1] == '\n'))
		g_string_truncate(out, out->len - 1);
	return i;
}

/*
 * content_type - what the block's Content-Type says: *multipart,
 * *message (an attached message follows), *digest, and the boundary
 * (the first boundary parameter, as GMime takes it) into boundary;
 * *encoded when a boundary is in RFC 2231 form (not followed here)
 */
static void
content_type(const char *v, size_t n, int *multipart, int *message,
             int *digest, GString *boundary, int *has_boundary,
             int *encoded_boundary)
{
	GString *value = g_string_new(NULL);
	size_t i = 0, start;
	char *type, *subtype;

	*multipart = *message = *digest = *has_boundary = 0;
	*encoded_boundary = 0;
	/* "type/subtype", blanks and comments around the "/" as GMime
	 * reads them ("(c) multipart /mixed") */
	i = skip_cfws(v, n, i);
	start = i;
	while (i < n && token_char(v[i]))
		i++;
	type = g_ascii_strdown(v + start, (gssize)(i - start));
	i = skip_cfws(v, n, i);
	if (i < n && v[i] == '/')
		i = skip_cfws(v, n, i + 1);
	start = i;
	while (i < n && token_char(v[i]))
		i++;
	subtype = g_ascii_strdown(v + start, (gssize)(i - start));
	if (strcmp(type, "multipart") == 0) {
		*multipart = 1;
		*digest = strcmp(subtype, "digest") == 0;
	} else if (strcmp(type, "message") == 0) {
		*message = strcmp(subtype, "rfc822") == 0 ||
		           strcmp(subtype, "news") == 0 ||
		           strcmp(subtype, "global") == 0;
	}
	g_free(type);
	g_free(subtype);
	/* what is not a parameter list is skipped to the first ';'; then
	 * "name = value" pairs until one is malformed */
	while (i < n && v[i] != ';')
		i++;
	while (i < n && v[i] == ';') {
		size_t name_start, name_end;
		int star = 0;

		i = skip_cfws(v, n, i + 1);
		name_start = i;
		while (i < n && token_char(v[i]) && v[i] != '*')
			i++;
		name_end = i;
		i = skip_cfws(v, n, i);
		if (i < n && v[i] == '*') {
			star = 1;
			while (i < n && v[i] != '=' && v[i] != ';')
				i++;
		}
		/* a malformed parameter ends the list, as in GMime */
		if (name_end == name_start || i >= n || v[i] != '=')
			break;
		i = param_value(v, n, skip_cfws(v, n, i + 1), value);
		if (name_end - name_start == 8 &&
		    g_ascii_strncasecmp(v + name_start, "boundary", 8) == 0) {
			if (star)
				*encoded_boundary = 1;
			else if (!*has_boundary) {
				g_string_assign(boundary, "");
				g_string_append_len(boundary, value->str,
				                    (gssize)value->len);
				*has_boundary = 1;
			}
		}
		i = skip_cfws(v, n, i);
	}
	g_string_free(value, TRUE);
}

/* encoded - a transfer encoding GMime decodes (an attached message so
 * encoded is not parsed); a value it may read so but this does not only
 * counts more headers than there are */
static int
encoded(const GString *cte)
{
	static const char *const names[] = {
		"base64", "quoted-printable", "uuencode", "x-uuencode", "x-uue",
	};
	char *v = g_strstrip(g_ascii_strdown(cte->str, (gssize)cte->len));
	int found = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(names) && !found; i++)
		found = strcmp(v, names[i]) == 0;
	g_free(v);
	return found;
}

/* boundary_chars - b[0..len) has only RFC 2046 bchars, not ending in a
 * space */
static int
boundary_chars(const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(b[i]) &&
		    (b[i] == '\0' || strchr("'()+_,-./:=? ", b[i]) == NULL))
			return 0;
	return len == 0 || b[len - 1] != ' ';
}

/* push - a multipart opens with boundary b */
static void
push(struct prescan *p, const char *b, size_t len, int digest)
{
	struct level *l;

	if (len == 0)
		set_ambiguous(p, "empty boundary", "", 0);
	else if (len > BOUNDARY_MAX)
		set_ambiguous(p, "boundary longer than 70 characters", b, len);
	else if (!boundary_chars(b, len))
		set_ambiguous(p, "boundary with characters RFC 2046 does not "
		              "allow:", b, len);
	else if (g_strstr_len(b, (gssize)len, "=?") != NULL)
		/* GMime decodes an RFC 2047 word in a parameter */
		set_ambiguous(p, "boundary in encoded form:", b, len);
	for (size_t i = 0; i < p->n_levels; i++) {
		const struct level *o = &p->levels[i];
		size_t common = MIN(o->len - 2, len);

		/* the same as an enclosing boundary, or one a prefix of the
		 * other: lines of one are lines of the other to RFC 2046 */
		if (memcmp(o->boundary + 2, b, common) == 0) {
			set_ambiguous(p, o->len - 2 == len
			                 ? "boundary reused inside its own "
			                   "multipart:"
			                 : "boundary nested in one it shares a "
			                   "prefix with:", b, len);
			break;
		}
	}
	if (p->n_levels == p->cap_levels) {
		p->cap_levels = p->cap_levels ? p->cap_levels * 2 : 8;
		p->levels = g_renew(struct level, p->levels, p->cap_levels);
	}
	l = &p->levels[p->n_levels++];
	/* a boundary may hold a NUL: copied by length, not as a string */
	l->boundary = g_malloc(len + 3);
	memcpy(l->boundary, "--", 2);
	memcpy(l->boundary + 2, b, len);
	l->boundary[len + 2] = '\0';
	l->len = len + 2;
	l->digest = digest;
	if (p->n_levels > p->out->depth)
		p->out->depth = p->n_levels;
	/* the root multipart is at depth 0 in the walk */
	if (p->n_levels > (size_t)p->settings->max_mime_depth + 1)
		set_limit(p, "limits.max_mime_depth: MIME nesting deeper "
		          "than %u", p->settings->max_mime_depth);
}

static void
pop_to(struct prescan *p, size_t n)
{
	while (p->n_levels > n)
		g_free(p->levels[--p->n_levels].boundary);
}

/* header_start - a header block starts at offset: one more MIME object */
static void
header_start(struct prescan *p, size_t offset, int part_of_digest)
{
	p->in_header = 1;
	p->block_start = offset;
	p->part_of_digest = part_of_digest;
	p->field = NULL;
	g_string_truncate(p->content_type, 0);
	g_string_truncate(p->encoding, 0);
	if (++p->out->parts > p->settings->max_mime_parts)
		set_limit(p, "limits.max_mime_parts: more than %u MIME parts",
		          p->settings->max_mime_parts);
}

/* header_end - the block ends; what follows from offset (no attached
 * message when the block was cut short by a delimiter, or at the end) */
static void
header_end(struct prescan *p, size_t offset, int cut_short)
{
	int multipart = 0, message = 0, digest = 0, has_boundary = 0;
	int encoded_boundary = 0;
	GString *boundary = g_string_new(NULL);

	p->in_header = 0;
	if (p->content_type->len > 0)
		content_type(p->content_type->str, p->content_type->len,
		             &multipart, &message, &digest, boundary,
		             &has_boundary, &encoded_boundary);
	if (encoded_boundary)
		set_ambiguous(p, "boundary in RFC 2231 form:", "boundary*", 9);
	if (p->content_type->len == 0 && p->part_of_digest)
		message = 1;
	if (message && encoded(p->encoding))
		message = 0;
	if (multipart && has_boundary)
		push(p, boundary->str, boundary->len, digest);
	g_string_free(boundary, TRUE);
	/* an attached message: its own header block follows the blank
	 * line (not when a delimiter cut the part's headers short) */
	if (message && !cut_short && p->out->limit == NULL)
		header_start(p, offset, 0);
}

/* name_is - the field name (before ':', blanks before it allowed, as
 * GMime allows them) is name, ignoring case */
static int
name_is(const char *line, size_t colon, const char *name)
{
	size_t len = strlen(name);

	while (colon > 0 && (line[colon - 1] == ' ' || line[colon - 1] == '\t'))
		colon--;
	return colon == len && g_ascii_strncasecmp(line, name, len) == 0;
}

/* field_of - a field's first line: its value goes into the block's
 * Content-Type or Content-Transfer-Encoding (the last one wins), which
 * is where its continuation lines go too; NULL for other fields */
static GString *
field_of(struct prescan *p, const char *line, size_t n)
{
	const char *c = memchr(line, ':', n);
	size_t colon = c != NULL ? (size_t)(c - line) : 0;
	GString *field = NULL;

	if (c == NULL)
		return NULL;
	if (name_is(line, colon, "content-type"))
		field = p->content_type;
	else if (name_is(line, colon, "content-transfer-encoding"))
		field = p->encoding;
	if (field != NULL) {
		g_string_truncate(field, 0);
		g_string_append_len(field, line + colon + 1,
		                    (gssize)(n - colon - 1));
	}
	return field;
}

/* field_line - line could start a header field to GMime: a name
 * without blanks or control characters (maybe empty), maybe blanks,
 * then ':', all on this line */
static int
field_line(const char *line, size_t n)
{
	int blank = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':')
			return 1;
		if (c == ' ' || c == '\t')
			blank = 1;
		else if (blank || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 0;
}

/* trimmed - length of line without trailing blanks (and CR) */
static size_t
trimmed(const char *line, size_t n)
{
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
	                 line[n - 1] == '\r'))
		n--;
	return n;
}

/*
 * delimiter - whether line is a delimiter of an open multipart: 1 a
 * delimiter (inner levels closed), 2 a close delimiter (its level
 * closed too), 0 neither; a line that only starts with a boundary is
 * ambiguous
 */
static int
delimiter(struct prescan *p, const char *line, size_t n)
{
	size_t t = trimmed(line, n);

	if (n < 2 || line[0] != '-' || line[1] != '-')
		return 0;
	/* innermost first, as GMime looks */
	for (size_t i = p->n_levels; i-- > 0;) {
		const struct level *l = &p->levels[i];
		int is_digest = l->digest;

		if (t == l->len && memcmp(line, l->boundary, t) == 0) {
			pop_to(p, i + 1);
			return is_digest ? 3 : 1;
		}
		if (t == l->len + 2 && memcmp(line, l->boundary, l->len) == 0 &&
		    line[l->len] == '-' && line[l->len + 1] == '-') {
			pop_to(p, i);
			return 2;
		}
		if (t > l->len && memcmp(line, l->boundary, l->len) == 0)
			set_ambiguous(p, "a line starts with the boundary but "
			              "is not one:", l->boundary + 2, l->len - 2);
	}
	return 0;
}

/*
 * The ceiling's own idea of where header blocks are, a superset of
 * GMime's that no header content can move: one starts at the top, after
 * every line that starts with "--" (GMime's boundary delimiters are
 * among them), and after a block that may announce an attached message
 * (it says "message" anywhere, or has no Content-Type or one GMime does
 * not read as type/subtype: a part of a multipart/digest is then
 * message/rfc822).
 */
struct ceiling {
	int in_header;
	int message;            /* the block may announce a message */
	int content_type;       /* it has a readable Content-Type */
};

static void
ceiling_block(struct ceiling *c)
{
	c->in_header = 1;
	c->message = 0;
	c->content_type = 0;
}

/* type_subtype - v[0..n) starts (after blanks) with token/token */
static int
type_subtype(const char *v, size_t n)
{
	size_t i = skip_cfws(v, n, 0), start = i;

	while (i < n && token_char(v[i]))
		i++;
	if (i == start)
		return 0;
	i = skip_cfws(v, n, i);
	if (i >= n || v[i] != '/')
		return 0;
	i = skip_cfws(v, n, i + 1);
	return i < n && token_char(v[i]);
}

/* ceiling_line - a line (not starting with "--") of a header block */
static void
ceiling_line(struct ceiling *c, const char *line, size_t n)
{
	size_t t = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
	const char *colon;

	if (t == 0) {
		/* the block ends; an attached message's may follow */
		if (c->message || !c->content_type)
			ceiling_block(c);
		else
			c->in_header = 0;
		return;
	}
	for (size_t i = 0; i + 7 <= n && !c->message; i++)
		c->message = g_ascii_strncasecmp(line + i, "message", 7) == 0;
	if ((colon = memchr(line, ':', n)) != NULL &&
	    name_is(line, (size_t)(colon - line), "content-type")) {
		/* the last one counts, as in GMime */
		c->content_type = type_subtype(colon + 1,
		                               n - (size_t)(colon - line) - 1);
	}
}

void
rg_prescan(const struct rg_settings *settings, const unsigned char *data,
           size_t len, struct rg_prescan *out)
{
	struct prescan p = { 0 };
	struct ceiling c;
	const char *s = (const char *)data;
	size_t pos = 0;
	unsigned long dash_ceiling = (unsigned long)settings->max_mime_parts *
	                             RG_PRESCAN_PART_SLACK;
	unsigned long field_ceiling =
		(unsigned long)settings->max_header_fields *
		RG_PRESCAN_FIELD_SLACK;

	memset(out, 0, sizeof(*out));
	ceiling_block(&c);
	p.settings = settings;
	p.out = out;
	p.content_type = g_string_new(NULL);
	p.encoding = g_string_new(NULL);
	header_start(&p, 0, 0);
	while (pos < len && out->limit == NULL) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - s) : len;
		size_t next = nl != NULL ? end + 1 : len;
		const char *line = s + pos;
		size_t n = end - pos;
		int d;

		/* the ceiling: lines GMime could make a part or a field of */
		if (n >= 2 && line[0] == '-' && line[1] == '-') {
			if (++out->dash_lines > dash_ceiling) {
				set_limit(&p, "limits.max_mime_parts: more than "
				          "%lu lines that could start a MIME "
				          "part (%u parts at most)",
				          dash_ceiling, settings->max_mime_parts);
				break;
			}
			ceiling_block(&c);
		} else if (c.in_header) {
			ceiling_line(&c, line, n);
		}
		if (c.in_header && field_line(line, n) &&
		    ++out->field_lines > field_ceiling) {
			set_limit(&p, "limits.max_header_fields: more than %lu "
			          "lines that could be header fields (%u "
			          "fields at most)", field_ceiling,
			          settings->max_header_fields);
			break;
		}
		if (p.in_header) {
			size_t t = n > 0 && line[n - 1] == '\r' ? n - 1 : n;

			if (t == 0) {
				size_t bytes = pos - p.block_start;

				if (bytes > out->largest_header)
					out->largest_header = bytes;
				header_end(&p, next, 0);
				pos = next;
				continue;
			}
			/* a part's headers cut short by a boundary */
			if (p.n_levels > 0 && line[0] == '-' &&
			    (d = delimiter(&p, line, n)) != 0) {
				header_end(&p, pos, 1);
				if (d != 2)
					header_start(&p, next, d == 3);
				pos = next;
				continue;
			}
			if (next - p.block_start > settings->max_header_bytes) {
				set_limit(&p, "limits.max_header_size: a header "
				          "block of more than %zu bytes",
				          settings->max_header_bytes);
				break;
			}
			if (line[0] == ' ' || line[0] == '\t') {
				if (p.field != NULL)
					g_string_append_len(p.field, line,
					                    (gssize)n);
			} else if (!field_line(line, n)) {
				/* GMime skips a line it cannot read as a
				 * field, and what continues it */
				p.field = NULL;
			} else {
				if (++out->header_fields >
				    settings->max_header_fields) {
					set_limit(&p, "limits.max_header_fields: "
					          "more than %u header fields",
					          settings->max_header_fields);
					break;
				}
				p.field = field_of(&p, line, n);
			}
		} else if (p.n_levels > 0 && n >= 2 && line[0] == '-' &&
		           (d = delimiter(&p, line, n)) != 0) {
			if (d != 2)
				header_start(&p, next, d == 3);
		}
		pos = next;
	}
	/* headers to the end of the input */
	if (p.in_header && out->limit == NULL) {
		if (len - p.block_start > out->largest_header)
			out->largest_header = len - p.block_start;
		header_end(&p, len, 1);
	}
	pop_to(&p, 0);
	g_free(p.levels);
	g_string_free(p.content_type, TRUE);
	g_string_free(p.encoding, TRUE);
}

void
rg_prescan_clear(struct rg_prescan *out)
{
	g_free(out->limit);
	g_free(out->ambiguous);
	memset(out, 0, sizeof(*out));
}
