/* ferplus.c - FER+ crowd votes for the records of a FER-2013 split (the
 * `*.ferplus.txt` files beside the `.bin` splits), the soft targets the
 * trainer builds from them (a mix of the smoothed FER one-hot label and
 * the normalised votes of the seven FER classes), the loss against those
 * targets with optional per-class weights, and the parser of the weights
 * (`train --class-weights`).
 *
 * File format (outside input, parsed strictly with hard caps):
 *   line 0     "# ..." header, ignored
 *   line i+1   "index fer_label png v0 ... v9" for record i of the split:
 *              index = i, fer_label = the record's label byte (0..6),
 *              png = "-" or a FER+ image name ([A-Za-z0-9._], <= 32 chars),
 *              ten vote counts 0..NN_FERPLUS_MAX_VOTES, in the order
 *              neutral happiness surprise sadness anger disgust fear
 *              contempt unknown not-a-face, summing to at most
 *              NN_FERPLUS_MAX_VOTES.
 * Fields are separated by single spaces or tabs; lines end in "\n" (an
 * optional "\r" before it); the last line may lack its "\n". Exactly one
 * line per record; a line is at most NN_FERPLUS_MAX_LINE bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

#define NN_FERPLUS_MAX_LINE 256
#define NN_FERPLUS_MAX_VOTES 10
#define NN_FERPLUS_COLS 10
#define NN_FERPLUS_NF 9 /* the "not a face" column */
#define NN_FERPLUS_MAX_FILE (64u << 20)

/* FER class of each vote column; -1 for contempt, unknown, not a face. */
static const int col_class[NN_FERPLUS_COLS] = {
	NN_NEUTRAL, NN_HAPPY, NN_SURPRISE, NN_SAD, NN_ANGRY,
	NN_DISGUST, NN_FEAR,  -1,	   -1,	   -1};

struct line_reader {
	const uint8_t *p, *end;
};

/* Next token of the current line into tok (NUL-terminated); 0 when none. */
static size_t next_token(const uint8_t **p, const uint8_t *end, char *tok,
			 size_t cap)
{
	size_t n = 0;

	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*p < end && **p != ' ' && **p != '\t') {
		if (n + 1 >= cap)
			return 0;
		tok[n++] = (char)**p;
		(*p)++;
	}
	tok[n] = 0;
	return n;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 9)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int png_ok(const char *s)
{
	if (!strcmp(s, "-"))
		return 1;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_'))
			return 0;
	return 1;
}

/* Fills the record's vote shares and majority from its ten counts. */
static void record_votes(const unsigned long v[NN_FERPLUS_COLS], float *share,
			 uint8_t *major)
{
	unsigned long best = 0, sum7 = 0;
	int arg = -1, tie = 0;

	for (int c = 0; c < NN_FERPLUS_COLS; c++) {
		if (v[c] > best) {
			best = v[c];
			arg = c;
			tie = 0;
		} else if (v[c] == best && best > 0)
			tie = 1;
		if (col_class[c] >= 0)
			sum7 += v[c];
	}
	*major = arg >= 0 && !tie && col_class[arg] >= 0
			 ? (uint8_t)col_class[arg]
			 : NN_FERPLUS_NONE;
	for (int c = 0; c < NN_CLASSES; c++)
		share[c] = 0;
	/* No target when nobody voted for a FER class or "not a face" has
	 * at least as many votes as any other column. */
	if (sum7 == 0 || v[NN_FERPLUS_NF] >= best)
		return;
	for (int c = 0; c < NN_FERPLUS_COLS; c++)
		if (col_class[c] >= 0)
			share[col_class[c]] = (float)v[c] / (float)sum7;
}

/* Parses one record line (without its end of line) for record i. */
static int parse_line(const uint8_t *p, const uint8_t *end, size_t i,
		      const struct nn_fer *set, float *share, uint8_t *major,
		      char *err, size_t errlen)
{
	char tok[40];
	unsigned long v[NN_FERPLUS_COLS], x, sum = 0;

	if (!next_token(&p, end, tok, sizeof(tok)) ||
	    parse_uint(tok, 1000000000ul, &x) || x != i)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ line %zu: bad index", i + 2);
	if (!next_token(&p, end, tok, sizeof(tok)) ||
	    parse_uint(tok, NN_CLASSES - 1, &x) || x != set->labels[i])
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ line %zu: label does not match the split",
			       i + 2);
	if (!next_token(&p, end, tok, 34) || !png_ok(tok))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ line %zu: bad image name", i + 2);
	for (int c = 0; c < NN_FERPLUS_COLS; c++) {
		if (!next_token(&p, end, tok, sizeof(tok)) ||
		    parse_uint(tok, NN_FERPLUS_MAX_VOTES, &v[c]))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "FER+ line %zu: bad vote count", i + 2);
		sum += v[c];
	}
	if (next_token(&p, end, tok, sizeof(tok)) || p != end)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ line %zu: extra fields", i + 2);
	if (sum > NN_FERPLUS_MAX_VOTES)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ line %zu: more than %d votes", i + 2,
			       NN_FERPLUS_MAX_VOTES);
	record_votes(v, share, major);
	return MS_OK;
}

/* The next line [*start, *stop) of r; 0 at the end of the buffer. */
static int next_line(struct line_reader *r, const uint8_t **start,
		     const uint8_t **stop, int *too_long)
{
	const uint8_t *nl;

	*too_long = 0;
	if (r->p >= r->end)
		return 0;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	*start = r->p;
	*stop = nl ? nl : r->end;
	r->p = nl ? nl + 1 : r->end;
	if (*stop > *start && (*stop)[-1] == '\r')
		(*stop)--;
	*too_long = *stop - *start > NN_FERPLUS_MAX_LINE;
	return 1;
}

int nn_ferplus_parse(const uint8_t *buf, size_t len, struct nn_fer *set,
		     char *err, size_t errlen)
{
	struct line_reader r = {buf, buf + len};
	const uint8_t *a, *b;
	float *votes = NULL;
	uint8_t *major = NULL;
	size_t i = 0;
	int too_long, rc = MS_OK;

	if (len > NN_FERPLUS_MAX_FILE)
		return ms_errf(err, errlen, MS_ELIMIT, "FER+ file too large");
	if (memchr(buf, 0, len))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ file has a NUL byte");
	if (!next_line(&r, &a, &b, &too_long) || too_long || b == a ||
	    *a != '#')
		return ms_errf(err, errlen, MS_EFORMAT,
			       "FER+ file lacks its '#' header line");
	votes = ms_mallocarray(set->n ? set->n : 1, NN_CLASSES * sizeof(float));
	major = malloc(set->n ? set->n : 1);
	if (!votes || !major) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out_free;
	}
	while (next_line(&r, &a, &b, &too_long)) {
		if (i >= set->n) {
			rc = ms_errf(err, errlen, MS_EFORMAT,
				     "FER+ file has more lines than the split "
				     "has records (%zu)",
				     set->n);
			goto out_free;
		}
		if (too_long) {
			rc = ms_errf(err, errlen, MS_ELIMIT,
				     "FER+ line %zu too long", i + 2);
			goto out_free;
		}
		rc = parse_line(a, b, i, set, votes + i * NN_CLASSES, major + i,
				err, errlen);
		if (rc)
			goto out_free;
		i++;
	}
	if (i != set->n) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "FER+ file has %zu records, the split %zu", i,
			     set->n);
		goto out_free;
	}
	free(set->votes);
	free(set->major);
	set->votes = votes;
	set->major = major;
	return MS_OK;
out_free:
	free(votes);
	free(major);
	return rc;
}

int nn_fer_load_ferplus(const char *path, struct nn_fer *set, char *err,
			size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int rc = ms_file_read(path, NN_FERPLUS_MAX_FILE, &buf, &len, err,
			      errlen);

	if (rc)
		return rc;
	rc = nn_ferplus_parse(buf, len, set, err, errlen);
	if (rc && strlen(err) + 1 < errlen) {
		char tmp[MS_ERRLEN];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	free(buf);
	return rc;
}

int nn_fer_has_target(const struct nn_fer *set, size_t i)
{
	const float *v;

	if (!set->votes)
		return 1;
	v = set->votes + i * NN_CLASSES;
	for (int c = 0; c < NN_CLASSES; c++)
		if (v[c] > 0)
			return 1;
	return 0;
}

void nn_target_mix(int label, const float *votes, float smoothing, float share,
		   float out[NN_CLASSES])
{
	int have = 0;

	for (int c = 0; c < NN_CLASSES; c++)
		have |= votes && votes[c] > 0;
	if (!have)
		share = 0;
	for (int c = 0; c < NN_CLASSES; c++) {
		float hard = smoothing / NN_CLASSES +
			     (c == label ? 1.0f - smoothing : 0.0f);

		out[c] = (1.0f - share) * hard + (have ? share * votes[c] : 0);
	}
}

float nn_softmax_ce_soft(const float *logits, const float *targets, int B,
			 const float *cw, const uint8_t *labels, float *dlogits,
			 int *correct)
{
	double loss = 0;
	int hits = 0;

	for (int n = 0; n < B; n++) {
		const float *t = targets + (size_t)n * NN_CLASSES;
		float mx = logits[n], p[NN_CLASSES], q[NN_CLASSES], sum = 0,
		      mass = 1, lse;
		int arg = 0;

		for (int c = 1; c < NN_CLASSES; c++)
			if (logits[c * B + n] > mx) {
				mx = logits[c * B + n];
				arg = c;
			}
		hits += labels && arg == labels[n];
		for (int c = 0; c < NN_CLASSES; c++) {
			p[c] = expf(logits[c * B + n] - mx);
			sum += p[c];
			q[c] = t[c];
		}
		if (cw) {
			/* L = -sum w_c t_c log p_c, dL/dz_j = p_j sum(w t) -
			 * w_j t_j */
			mass = 0;
			for (int c = 0; c < NN_CLASSES; c++) {
				q[c] *= cw[c];
				mass += q[c];
			}
		}
		lse = logf(sum);
		for (int c = 0; c < NN_CLASSES; c++) {
			loss -= q[c] * (logits[c * B + n] - mx - lse);
			if (dlogits)
				dlogits[c * B + n] =
					(p[c] / sum * mass - q[c]) / (float)B;
		}
	}
	if (correct)
		*correct = hits;
	return (float)(loss / B);
}

int nn_class_weight_bad(const float w[NN_CLASSES])
{
	for (int c = 0; c < NN_CLASSES; c++)
		if (!(w[c] >= (float)NN_CLASS_WEIGHT_MIN &&
		      w[c] <= (float)NN_CLASS_WEIGHT_MAX))
			return c;
	return -1;
}

int nn_class_weights_parse(const char *spec, float w[NN_CLASSES], char *err,
			   size_t errlen)
{
	const char *p = spec;

	for (int c = 0; c < NN_CLASSES; c++)
		w[c] = 1.0f;
	while (*p) {
		size_t len = strcspn(p, "=,");
		int c = 0;
		char *end;
		double v;

		while (c < NN_CLASSES && (strlen(nn_emotion_names[c]) != len ||
					  strncmp(p, nn_emotion_names[c], len)))
			c++;
		if (c == NN_CLASSES || p[len] != '=')
			return ms_errf(err, errlen, MS_EINVAL,
				       "class weights: expected CLASS=W "
				       "(angry, disgust, fear, happy, sad, "
				       "surprise, neutral) at '%.20s'",
				       p);
		p += len + 1;
		v = strtod(p, &end);
		if (end == p || (*end && (*end != ',' || !end[1])) ||
		    !(v >= NN_CLASS_WEIGHT_MIN && v <= NN_CLASS_WEIGHT_MAX))
			return ms_errf(err, errlen, MS_EINVAL,
				       "class weights: %s needs a number "
				       "from %g to %g",
				       nn_emotion_names[c], NN_CLASS_WEIGHT_MIN,
				       NN_CLASS_WEIGHT_MAX);
		w[c] = (float)v;
		p = *end ? end + 1 : end;
	}
	return MS_OK;
}
