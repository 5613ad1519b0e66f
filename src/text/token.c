/* token.c - the text tokeniser and its hashed features: strict UTF-8
 * decoding of any byte string, word/symbol splitting, negation scopes, and
 * word, word-pair and character n-gram features (fastText-style hashing).
 * Pure functions over caller-provided buffers; thread-safe. */
#include <string.h>

#include "moodsync/text.h"

const char *const txt_class_names[TXT_CLASSES] = {
	"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

/* What a code point does to the token stream. */
enum cp_kind {
	CP_WORD,   /* part of a word */
	CP_APOS,   /* apostrophe: inside a word only */
	CP_SEP,	   /* separates words */
	CP_CLAUSE, /* separates words and ends a negation scope */
	CP_MARK,   /* a token of its own that ends a negation scope (! ?) */
	CP_SYMBOL, /* a token of its own (emoji, pictographs) */
	CP_IGNORE, /* dropped without separating (joiners, selectors) */
};

/* Decodes one strict UTF-8 sequence at s[0..n). Returns its length and
 * sets *cp, or returns 1 with *cp = 0xFFFFFFFF for an invalid byte
 * (stray continuation, overlong form, surrogate, > U+10FFFF, cut off). */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t v;

	*cp = 0xFFFFFFFFu;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 1;
	}
	if (n < need + 1 || s[1] < lo || s[1] > hi)
		return 1;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 1;
		v = (v << 6) | (s[i] & 0x3F);
	}
	*cp = v;
	return need + 1;
}

static enum cp_kind classify(uint32_t cp)
{
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9'))
			return CP_WORD;
		if (cp == '\'')
			return CP_APOS;
		if (cp == '!' || cp == '?')
			return CP_MARK;
		if (cp == '.' || cp == ',' || cp == ';' || cp == ':')
			return CP_CLAUSE;
		return CP_SEP;
	}
	if (cp == 0x2019 || cp == 0x02BC)
		return CP_APOS;
	if (cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
	    (cp >= 0xE0000 && cp <= 0xE007F))
		return CP_IGNORE;
	if (cp == 0x2026)
		return CP_CLAUSE;
	if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7 ||
	    (cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) ||
	    (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
	    cp >= 0xF0000 || (cp >= 0xFE10 && cp <= 0xFE6F))
		return CP_SEP;
	if ((cp >= 0x2100 && cp <= 0x2BFF) || (cp >= 0x1F000 && cp <= 0x1FAFF))
		return CP_SYMBOL;
	return CP_WORD;
}

/* Words that open a negation scope (besides any word ending in "n't"). */
static const char *const negators[] = {
	"not",	   "no",      "never",	  "without", "nothing", "nobody",
	"none",	   "nowhere", "neither",  "nor",     "cannot",	"cant",
	"dont",	   "wont",    "isnt",	  "didnt",   "doesnt",	"wasnt",
	"couldnt", "wouldnt", "shouldnt", "havent",  "hasnt",	"arent",
	"werent",  "aint",    "hardly",
};

static int is_negator(const char *w, size_t n)
{
	if (n >= 3 && memcmp(w + n - 3, "n't", 3) == 0)
		return 1;
	for (size_t i = 0; i < MS_ARRAY_LEN(negators); i++)
		if (strlen(negators[i]) == n && memcmp(negators[i], w, n) == 0)
			return 1;
	return 0;
}

/* Tokeniser state while scanning. */
struct scan {
	struct txt_tokens *t;
	size_t pos;   /* bytes used in t->buf */
	size_t start; /* start of the open word in t->buf */
	int open;     /* a word is open */
	int full;     /* the open word reached TXT_MAX_TOKEN_BYTES */
	int neg_left; /* words still to negate when window > 0 */
	int neg_on;   /* a negation scope is open */
	int window;
};

static void scope_end(struct scan *s)
{
	s->neg_on = 0;
}

static void push(struct scan *s, size_t start, size_t len, int word)
{
	struct txt_tokens *t = s->t;

	if (t->n >= TXT_MAX_TOKENS || len == 0)
		return;
	t->off[t->n] = (uint16_t)start;
	t->len[t->n] = (uint8_t)len;
	t->word[t->n] = (uint8_t)word;
	t->neg[t->n] = 0;
	if (word && s->neg_on) {
		t->neg[t->n] = 1;
		if (s->window > 0 && --s->neg_left <= 0)
			s->neg_on = 0;
	}
	t->n++;
	if (word && is_negator(t->buf + start, len)) {
		s->neg_on = 1;
		s->neg_left = s->window;
	}
}

static void word_close(struct scan *s)
{
	size_t len;

	if (!s->open)
		return;
	s->open = 0;
	len = s->pos - s->start;
	while (len > 0 && s->t->buf[s->start + len - 1] == '\'')
		len--;
	s->pos = s->start + len;
	/* "but" turns the clause: it ends a negation scope. */
	if (len == 3 && memcmp(s->t->buf + s->start, "but", 3) == 0)
		scope_end(s);
	push(s, s->start, len, 1);
}

/* Appends a code point's bytes to the open word, cut at the cap. */
static void word_add(struct scan *s, const uint8_t *p, size_t n, uint32_t cp)
{
	char lower[4];

	if (!s->open) {
		s->open = 1;
		s->full = 0;
		s->start = s->pos;
	}
	if (s->full || s->pos - s->start + n > TXT_MAX_TOKEN_BYTES) {
		s->full = 1; /* the rest of the word is dropped */
		return;
	}
	memcpy(lower, p, n);
	if (cp < 0x80 && cp >= 'A' && cp <= 'Z')
		lower[0] = (char)(cp + 32);
	else if (cp == '\'' || cp == 0x2019 || cp == 0x02BC) {
		lower[0] = '\'';
		n = 1;
	} else if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
		/* Latin-1 capitals: lowercase is 0x20 higher, same 2 bytes. */
		lower[1] = (char)(0x80 | ((cp + 0x20) & 0x3F));
	}
	memcpy(s->t->buf + s->pos, lower, n);
	s->pos += n;
}

static void single(struct scan *s, const uint8_t *p, size_t n)
{
	word_close(s);
	memcpy(s->t->buf + s->pos, p, n);
	push(s, s->pos, n, 0);
	s->pos += n;
}

void txt_tokenize(const char *text, size_t len, int neg_window,
		  struct txt_tokens *out)
{
	const uint8_t *in = (const uint8_t *)text;
	struct scan s = {.t = out, .window = neg_window};
	size_t i = 0;

	out->n = 0;
	if (!text)
		len = 0;
	while (i < len) {
		uint32_t cp;
		size_t k = utf8_decode(in + i, len - i, &cp);
		enum cp_kind kind;

		if (i + k > TXT_MAX_INPUT)
			break;
		kind = cp == 0xFFFFFFFFu ? CP_SEP : classify(cp);
		switch (kind) {
		case CP_WORD:
			word_add(&s, in + i, k, cp);
			break;
		case CP_APOS:
			if (s.open)
				word_add(&s, in + i, k, cp);
			break;
		case CP_SEP:
			word_close(&s);
			break;
		case CP_CLAUSE:
			word_close(&s);
			scope_end(&s);
			break;
		case CP_MARK:
			single(&s, in + i, k);
			scope_end(&s);
			break;
		case CP_SYMBOL:
			single(&s, in + i, k);
			break;
		case CP_IGNORE:
			break;
		}
		i += k;
	}
	word_close(&s);
	out->used = i;
}

/* ---- Features ---------------------------------------------------------- */

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u
#define SALT_NEG 0x9E3779B9u   /* negated tokens */
#define SALT_NGRAM 0x85EBCA6Bu /* character n-grams */
#define SALT_PAIR 0xC2B2AE35u  /* word pairs */

static uint32_t fnv(uint32_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* A final avalanche so that nearby hashes land in unrelated rows. */
static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7FEB352Du;
	h ^= h >> 15;
	h *= 0x846CA68Bu;
	h ^= h >> 16;
	return h;
}

void txt_config_default(struct txt_config *c)
{
	c->buckets = 1u << 17;
	c->ngram_min = 3;
	c->ngram_max = 5;
	c->bigrams = 1;
	c->neg_window = 0;
}

int txt_config_check(const struct txt_config *c, char *err, size_t errlen)
{
	if (c->buckets < 1 || c->buckets > TXT_MAX_BUCKETS)
		return ms_errf(err, errlen, MS_EINVAL,
			       "buckets %u not in 1..%u", c->buckets,
			       TXT_MAX_BUCKETS);
	if (c->ngram_max > TXT_MAX_NGRAM || c->ngram_min > c->ngram_max ||
	    (c->ngram_min == 0 && c->ngram_max != 0))
		return ms_errf(err, errlen, MS_EINVAL,
			       "character n-grams %u..%u not within 1..%d",
			       c->ngram_min, c->ngram_max, TXT_MAX_NGRAM);
	if (c->bigrams > 1 || c->neg_window > 64)
		return ms_errf(err, errlen, MS_EINVAL,
			       "bigrams must be 0/1, negation window <= 64");
	return MS_OK;
}

/* Character n-grams of one word wrapped in '<' '>', counted in code
 * points (the token bytes are valid UTF-8 by construction). */
static int word_ngrams(const struct txt_config *c, const char *w, size_t n,
		       uint32_t salt, uint32_t *feat, int k, int max)
{
	char buf[TXT_MAX_TOKEN_BYTES + 2];
	uint8_t at[TXT_MAX_TOKEN_BYTES + 3]; /* code point starts, + end */
	int ncp = 0;

	buf[0] = '<';
	memcpy(buf + 1, w, n);
	buf[n + 1] = '>';
	for (size_t i = 0; i < n + 2; i++)
		if (((uint8_t)buf[i] & 0xC0) != 0x80)
			at[ncp++] = (uint8_t)i;
	at[ncp] = (uint8_t)(n + 2);
	for (uint32_t g = c->ngram_min; g <= c->ngram_max && g > 0; g++)
		for (int s = 0; s + (int)g <= ncp && k < max; s++) {
			uint32_t h = fnv(FNV_BASIS ^ salt, buf + at[s],
					 at[s + g] - at[s]);

			feat[k++] = mix(h) % c->buckets;
		}
	return k;
}

int txt_features(const struct txt_config *c, const struct txt_tokens *tok,
		 uint32_t *feat, int max)
{
	uint32_t prev = 0;
	int k = 0;

	for (int i = 0; i < tok->n && k < max; i++) {
		const char *w = tok->buf + tok->off[i];
		size_t n = tok->len[i];
		uint32_t salt = tok->neg[i] ? SALT_NEG : 0;
		uint32_t h = fnv(FNV_BASIS ^ salt, w, n);

		feat[k++] = mix(h) % c->buckets;
		if (c->bigrams && i > 0 && k < max)
			feat[k++] = mix((prev * FNV_PRIME) ^ h ^ SALT_PAIR) %
				    c->buckets;
		prev = h;
		if (tok->word[i] && c->ngram_min > 0)
			k = word_ngrams(c, w, n, SALT_NGRAM ^ salt, feat, k,
					max);
	}
	return k;
}
