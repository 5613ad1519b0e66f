/* xml.c - a small, bounded XML reader for OpenCV cascade files. It builds a
 * flat tree of elements whose names and text point into the input buffer.
 * Hard caps: nesting depth (VIS_XML_MAX_DEPTH), node count
 * (VIS_XML_MAX_NODES); every byte is looked at a bounded number of times,
 * so hostile input costs linear time and bounded memory. */
#include <stdlib.h>
#include <string.h>

#include "vision/vision_internal.h"

struct xml_parser {
	const char *s;
	size_t len, pos;
	struct vis_xml doc;
	int cap;
	int stack[VIS_XML_MAX_DEPTH]; /* open elements */
	int last[VIS_XML_MAX_DEPTH];  /* their last child so far, -1 */
	int depth;
	char *err;
	size_t errlen;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

/* Line number of byte `pos`, for error messages. */
static int line_of(const struct xml_parser *p, size_t pos)
{
	int line = 1;

	for (size_t i = 0; i < pos && i < p->len; i++)
		line += p->s[i] == '\n';
	return line;
}

static int fail(struct xml_parser *p, int code, const char *what)
{
	return ms_errf(p->err, p->errlen, code, "XML line %d: %s",
		       line_of(p, p->pos), what);
}

/* Skips to just past `end` (a short literal); 0 when it is not found. */
static int skip_past(struct xml_parser *p, const char *end)
{
	size_t n = strlen(end);

	while (p->pos + n <= p->len) {
		if (memcmp(p->s + p->pos, end, n) == 0) {
			p->pos += n;
			return 1;
		}
		p->pos++;
	}
	p->pos = p->len;
	return 0;
}

static int add_node(struct xml_parser *p, const char *name, size_t name_len)
{
	struct vis_xml_node *nd;
	int idx = p->doc.n;

	if ((unsigned)p->doc.n >= VIS_XML_MAX_NODES)
		return fail(p, MS_ELIMIT, "too many elements");
	if (p->doc.n == p->cap) {
		int ncap = p->cap ? p->cap * 2 : 1024;
		void *nn = realloc(p->doc.nodes,
				   (size_t)ncap * sizeof(*p->doc.nodes));
		if (!nn)
			return fail(p, MS_ENOMEM, "out of memory");
		p->doc.nodes = nn;
		p->cap = ncap;
	}
	nd = &p->doc.nodes[idx];
	nd->name = name;
	nd->name_len = name_len;
	nd->text = NULL;
	nd->text_len = 0;
	nd->first_child = -1;
	nd->next = -1;
	nd->nchildren = 0;
	if (p->depth > 0) {
		int parent = p->stack[p->depth - 1];
		int prev = p->last[p->depth - 1];

		if (prev < 0)
			p->doc.nodes[parent].first_child = idx;
		else
			p->doc.nodes[prev].next = idx;
		p->last[p->depth - 1] = idx;
		p->doc.nodes[parent].nchildren++;
	}
	p->doc.n++;
	return MS_OK;
}

/* At '<' of a start tag. */
static int open_tag(struct xml_parser *p)
{
	size_t start = ++p->pos;
	int rc;

	if (p->pos >= p->len || !is_name_start(p->s[p->pos]))
		return fail(p, MS_EFORMAT, "bad element name");
	while (p->pos < p->len && is_name_char(p->s[p->pos]))
		p->pos++;
	if (p->depth == 0 && p->doc.n > 0)
		return fail(p, MS_EFORMAT, "more than one root element");
	if (p->depth >= VIS_XML_MAX_DEPTH)
		return fail(p, MS_ELIMIT, "elements nested too deeply");
	rc = add_node(p, p->s + start, p->pos - start);
	if (rc)
		return rc;
	/* attributes: skipped, honouring quotes */
	while (p->pos < p->len && p->s[p->pos] != '>') {
		char c = p->s[p->pos];

		if (c == '"' || c == '\'') {
			p->pos++;
			while (p->pos < p->len && p->s[p->pos] != c)
				p->pos++;
			if (p->pos >= p->len)
				break;
		} else if (c == '<') {
			return fail(p, MS_EFORMAT, "'<' inside a tag");
		}
		p->pos++;
	}
	if (p->pos >= p->len)
		return fail(p, MS_EFORMAT, "unterminated tag");
	p->pos++; /* '>' */
	if (p->s[p->pos - 2] == '/')
		return MS_OK; /* <empty/> */
	p->stack[p->depth] = p->doc.n - 1;
	p->last[p->depth] = -1;
	p->depth++;
	return MS_OK;
}

/* At "</". */
static int close_tag(struct xml_parser *p)
{
	size_t start = p->pos + 2, end;
	const struct vis_xml_node *top;

	p->pos = start;
	while (p->pos < p->len && is_name_char(p->s[p->pos]))
		p->pos++;
	end = p->pos;
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] != '>')
		return fail(p, MS_EFORMAT, "bad end tag");
	p->pos++;
	if (p->depth == 0)
		return fail(p, MS_EFORMAT, "end tag without a start tag");
	top = &p->doc.nodes[p->stack[p->depth - 1]];
	if (top->name_len != end - start ||
	    memcmp(top->name, p->s + start, end - start) != 0)
		return fail(p, MS_EFORMAT, "mismatched end tag");
	p->depth--;
	return MS_OK;
}

/* Character data from p->pos up to the next '<'. */
static int text(struct xml_parser *p)
{
	size_t a = p->pos, b;
	struct vis_xml_node *cur;

	while (p->pos < p->len && p->s[p->pos] != '<')
		p->pos++;
	b = p->pos;
	while (a < b && is_space(p->s[a]))
		a++;
	while (b > a && is_space(p->s[b - 1]))
		b--;
	if (a == b)
		return MS_OK;
	if (p->depth == 0)
		return fail(p, MS_EFORMAT, "text outside the root element");
	cur = &p->doc.nodes[p->stack[p->depth - 1]];
	if (cur->text || cur->nchildren > 0)
		return fail(p, MS_EFORMAT, "text mixed with elements");
	cur->text = p->s + a;
	cur->text_len = b - a;
	return MS_OK;
}

int vis_xml_parse(const char *buf, size_t len, struct vis_xml *doc, char *err,
		  size_t errlen)
{
	struct xml_parser p;
	int rc = MS_OK;

	memset(&p, 0, sizeof(p));
	p.s = buf;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	if (len > (size_t)INT32_MAX) {
		rc = ms_errf(err, errlen, MS_ELIMIT, "XML too large");
		goto out;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	while (p.pos < p.len) {
		const char *c = p.s + p.pos;
		size_t left = p.len - p.pos;

		if (*c != '<') {
			rc = text(&p);
		} else if (left >= 4 && memcmp(c, "<!--", 4) == 0) {
			p.pos += 4;
			if (!skip_past(&p, "-->"))
				rc = fail(&p, MS_EFORMAT,
					  "unterminated comment");
		} else if (left >= 2 && c[1] == '?') {
			if (!skip_past(&p, "?>"))
				rc = fail(&p, MS_EFORMAT,
					  "unterminated declaration");
		} else if (left >= 2 && c[1] == '!') {
			rc = fail(&p, MS_EUNSUPPORTED,
				  "DOCTYPE and CDATA are not supported");
		} else if (left >= 2 && c[1] == '/') {
			rc = close_tag(&p);
		} else {
			rc = open_tag(&p);
		}
		if (rc)
			goto out;
	}
	if (p.depth != 0) {
		rc = fail(&p, MS_EFORMAT, "unexpected end (unclosed element)");
		goto out;
	}
	if (p.doc.n == 0) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "XML: no root element");
		goto out;
	}
	*doc = p.doc;
	p.doc.nodes = NULL;
out:
	free(p.doc.nodes);
	return rc;
}

void vis_xml_release(struct vis_xml *doc)
{
	if (!doc)
		return;
	free(doc->nodes);
	doc->nodes = NULL;
	doc->n = 0;
}

int vis_xml_child(const struct vis_xml *doc, int parent, const char *name)
{
	size_t n = strlen(name);

	if (parent < 0 || parent >= doc->n)
		return -1;
	for (int c = doc->nodes[parent].first_child; c >= 0;
	     c = doc->nodes[c].next)
		if (doc->nodes[c].name_len == n &&
		    memcmp(doc->nodes[c].name, name, n) == 0)
			return c;
	return -1;
}
