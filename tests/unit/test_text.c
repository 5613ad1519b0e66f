/* test_text.c - unit tests for src/text/: the tokeniser (ASCII folding,
 * UTF-8 kept, invalid and overlong sequences and control characters
 * dropped, the input cap at a code-point boundary, emoji tokens, negation
 * scopes), the features, a tiny model trained here (negation changes its
 * answer), the model file round trip and hostile model files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "moodsync/text.h"

static struct txt_tokens tok;

static void tokens(const char *s, size_t n)
{
	txt_tokenize(s, n, 0, &tok);
}

/* Token i as a C string (static buffer). */
static const char *tk(int i)
{
	static char out[TXT_MAX_TOKEN_BYTES + 1];

	memcpy(out, tok.buf + tok.off[i], tok.len[i]);
	out[tok.len[i]] = '\0';
	return out;
}

static void test_ascii(void **state)
{
	(void)state;
	tokens("Hello, WORLD!  it's [NAME] 42", 29);
	assert_int_equal(tok.n, 6);
	assert_string_equal(tk(0), "hello");
	assert_string_equal(tk(1), "world");
	assert_string_equal(tk(2), "!");
	assert_int_equal(tok.word[2], 0);
	assert_string_equal(tk(3), "it's");
	assert_string_equal(tk(4), "name");
	assert_string_equal(tk(5), "42");
	tokens("''quoted'' 'x", 13);
	assert_int_equal(tok.n, 2);
	assert_string_equal(tk(0), "quoted");
	assert_string_equal(tk(1), "x");
}

static void test_utf8_kept_and_folded(void **state)
{
	const char *s = "Caf\xc3\x89 \xd0\x9f\xd1\x80\xd0\xb8 don\xe2\x80\x99t";

	(void)state;
	tokens(s, strlen(s));
	assert_int_equal(tok.n, 3);
	assert_string_equal(tk(0), "caf\xc3\xa9"); /* É folded to é */
	assert_string_equal(tk(1), "\xd0\x9f\xd1\x80\xd0\xb8"); /* Cyrillic */
	assert_string_equal(tk(2), "don't"); /* ’ becomes ' */
}

static void test_invalid_bytes_dropped(void **state)
{
	/* stray continuation, overlong '/', surrogate, > U+10FFFF, a cut
	 * sequence at the end; each separates words and none is kept */
	const char s[] = "ab\x80"
			 "cd \xc0\xaf"
			 "ef \xed\xa0\x80"
			 "gh "
			 "\xf4\x90\x80\x80ij \xe2\x82";

	(void)state;
	tokens(s, sizeof(s) - 1);
	assert_int_equal(tok.n, 5);
	assert_string_equal(tk(0), "ab");
	assert_string_equal(tk(1), "cd");
	assert_string_equal(tk(2), "ef");
	assert_string_equal(tk(3), "gh");
	assert_string_equal(tk(4), "ij");
	for (int i = 0; i < tok.n; i++)
		for (int k = 0; k < tok.len[i]; k++)
			assert_true((uint8_t)tok.buf[tok.off[i] + k] < 0x80);
}

static void test_controls_and_nul(void **state)
{
	const char s[] = "a\x01"
			 "b\x1b[31mc\x7f"
			 "d\0e\xc2\x85"
			 "f";

	(void)state;
	tokens(s, sizeof(s) - 1);
	assert_int_equal(tok.n, 6); /* a b 31mc d e f */
	assert_string_equal(tk(0), "a");
	assert_string_equal(tk(2), "31mc"); /* "[" separates */
	assert_string_equal(tk(3), "d");
	assert_string_equal(tk(4), "e");
	assert_string_equal(tk(5), "f");
	tokens("\x01\x02\x03\t\n \x7f", 7);
	assert_int_equal(tok.n, 0);
	tokens(NULL, 5);
	assert_int_equal(tok.n, 0);
}

static void test_emoji_tokens(void **state)
{
	/* U+1F602, U+2764 U+FE0F (selector dropped), thumbs up + skin tone */
	const char *s = "lol\xf0\x9f\x98\x82\xe2\x9d\xa4\xef\xb8\x8f "
			"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd";

	(void)state;
	tokens(s, strlen(s));
	assert_int_equal(tok.n, 4);
	assert_string_equal(tk(0), "lol");
	assert_string_equal(tk(1), "\xf0\x9f\x98\x82");
	assert_int_equal(tok.word[1], 0);
	assert_string_equal(tk(2), "\xe2\x9d\xa4");
	assert_string_equal(tk(3), "\xf0\x9f\x91\x8d");
}

/* Input past TXT_MAX_INPUT is cut at a code-point boundary. */
static void test_input_cap(void **state)
{
	static char big[TXT_MAX_INPUT + 64];

	(void)state;
	/* 'a' then 2-byte letters, so that the cap falls inside one */
	big[0] = 'a';
	for (size_t i = 1; i + 1 < sizeof(big); i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	tokens(big, sizeof(big) - 1);
	assert_true(tok.used <= TXT_MAX_INPUT);
	assert_int_equal(tok.used % 2, 1); /* never inside a sequence */
	assert_true(tok.n >= 1);
	assert_true(tok.len[0] <= TXT_MAX_TOKEN_BYTES);
	assert_int_equal(tok.len[0] % 2, 1); /* "a" + whole é's */
	/* a long word is cut at the token cap, code-point safe */
	memset(big, 'x', sizeof(big));
	tokens(big, sizeof(big));
	assert_int_equal(tok.n, 1);
	assert_int_equal(tok.len[0], TXT_MAX_TOKEN_BYTES);
	/* a word cut at the cap keeps its head only: 47 x's, then a 2-byte
	 * letter that does not fit, then 'y' that would */
	memset(big, 'x', TXT_MAX_TOKEN_BYTES - 1);
	memcpy(big + TXT_MAX_TOKEN_BYTES - 1, "\xc3\xa9y z", 5);
	tokens(big, TXT_MAX_TOKEN_BYTES - 1 + 5);
	assert_int_equal(tok.n, 2);
	assert_int_equal(tok.len[0], TXT_MAX_TOKEN_BYTES - 1);
	assert_string_equal(tk(1), "z");
	/* many short words stop at TXT_MAX_TOKENS */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 2 ? ' ' : 'a';
	tokens(big, sizeof(big));
	assert_true(tok.n <= TXT_MAX_TOKENS);
}

static void test_negation_scope(void **state)
{
	const char *s = "I am not very happy, but fine. Never sad! I don't "
			"know why";

	(void)state;
	tokens(s, strlen(s));
	/* i am not very happy , but fine . never sad ! i don't know why */
	assert_string_equal(tk(2), "not");
	assert_int_equal(tok.neg[2], 0);
	assert_int_equal(tok.neg[3], 1); /* very */
	assert_int_equal(tok.neg[4], 1); /* happy */
	assert_string_equal(tk(5), "but");
	assert_int_equal(tok.neg[5], 0);
	assert_int_equal(tok.neg[6], 0); /* fine */
	assert_string_equal(tk(8), "sad");
	assert_int_equal(tok.neg[8], 1);
	assert_string_equal(tk(9), "!");
	assert_int_equal(tok.neg[11], 0); /* don't */
	assert_int_equal(tok.neg[12], 1); /* know */
	assert_int_equal(tok.neg[13], 1); /* why */
	/* a window of 1 negates only the next word */
	txt_tokenize("not very happy", 14, 1, &tok);
	assert_int_equal(tok.neg[1], 1);
	assert_int_equal(tok.neg[2], 0);
}

static void test_features(void **state)
{
	struct txt_config c;
	uint32_t f1[TXT_MAX_FEATURES], f2[TXT_MAX_FEATURES];
	int n1, n2;

	(void)state;
	txt_config_default(&c);
	tokens("happy", 5);
	n1 = txt_features(&c, &tok, f1, TXT_MAX_FEATURES);
	/* "<happy>" has 7 code points: 1 word + 5 + 4 + 3 n-grams */
	assert_int_equal(n1, 1 + 5 + 4 + 3);
	for (int i = 0; i < n1; i++)
		assert_true(f1[i] < c.buckets);
	tokens("not happy", 9);
	n2 = txt_features(&c, &tok, f2, TXT_MAX_FEATURES);
	/* the negated word hashes apart from the plain one */
	assert_int_not_equal(f2[2], f1[0]);
	/* the cap on features is honoured */
	assert_int_equal(txt_features(&c, &tok, f2, 3), 3);
	(void)n2;
	c.ngram_min = c.ngram_max = 0;
	c.bigrams = 0;
	tokens("a b c", 5);
	assert_int_equal(txt_features(&c, &tok, f1, TXT_MAX_FEATURES), 3);
}

static void test_config_check(void **state)
{
	struct txt_config c;

	(void)state;
	txt_config_default(&c);
	assert_int_equal(txt_config_check(&c, NULL, 0), MS_OK);
	c.buckets = 0;
	assert_int_equal(txt_config_check(&c, NULL, 0), MS_EINVAL);
	txt_config_default(&c);
	c.ngram_min = 4;
	c.ngram_max = 3;
	assert_int_equal(txt_config_check(&c, NULL, 0), MS_EINVAL);
	txt_config_default(&c);
	c.neg_window = 65;
	assert_int_equal(txt_config_check(&c, NULL, 0), MS_EINVAL);
	assert_null(txt_model_new(&c));
}

/* A tiny set where "happy" is happy and "sad" is sad. */
static const struct {
	const char *text;
	int cls;
} tiny[] = {
	{"i am happy", 3},	{"so happy today", 3},
	{"happy happy day", 3}, {"we are happy now", 3},
	{"i am sad", 4},	{"so sad today", 4},
	{"sad and lonely", 4},	{"i feel sad", 4},
	{"i am not happy", 4},	{"not happy at all", 4},
	{"it is a table", 6},	{"the bus comes at noon", 6},
};

static struct txt_model *train_tiny(struct txt_set *set)
{
	struct txt_config c;
	struct txt_train_params p;
	struct txt_model *m;
	uint32_t feat[TXT_MAX_FEATURES];

	txt_config_default(&c);
	c.buckets = 4096;
	set->n = MS_ARRAY_LEN(tiny);
	set->ex = calloc(set->n, sizeof(*set->ex));
	assert_non_null(set->ex);
	for (size_t i = 0; i < set->n; i++) {
		struct txt_example *ex = &set->ex[i];

		txt_tokenize(tiny[i].text, strlen(tiny[i].text), 0, &tok);
		ex->nfeat = txt_features(&c, &tok, feat, TXT_MAX_FEATURES);
		ex->feat = malloc((size_t)ex->nfeat * sizeof(*feat));
		memcpy(ex->feat, feat, (size_t)ex->nfeat * sizeof(*feat));
		ex->target[tiny[i].cls] = 1;
		ex->gold = (uint8_t)(1u << tiny[i].cls);
		ex->first = (uint8_t)tiny[i].cls;
	}
	m = txt_model_new(&c);
	assert_non_null(m);
	txt_train_params_default(&p);
	p.epochs = 60;
	assert_int_equal(txt_train(m, set, &p, NULL, NULL, NULL, 0), MS_OK);
	return m;
}

static void test_train_and_negation(void **state)
{
	struct txt_set set = {0};
	struct txt_model *m = train_tiny(&set);
	struct txt_result a, b, e;
	struct txt_score s;

	(void)state;
	txt_evaluate(m, &set, &s);
	assert_true(s.accuracy >= 11.0 / 12);
	txt_predict(m, "I am happy", 10, &a);
	txt_predict(m, "I am not happy", 14, &b);
	assert_int_equal(a.top, 3);
	assert_true(b.probs[3] < a.probs[3] - 0.2f);
	/* nothing to read: neutral, with no tokens */
	txt_predict(m, "\x01\x02", 2, &e);
	assert_int_equal(e.tokens, 0);
	assert_int_equal(e.top, TXT_CLASSES - 1);
	assert_float_equal(e.probs[TXT_CLASSES - 1], 1.0, 1e-6);
	{
		float sum = 0;

		for (int c = 0; c < TXT_CLASSES; c++)
			sum += b.probs[c];
		assert_float_equal(sum, 1.0, 1e-4);
	}
	txt_set_release(&set);
	txt_model_free(m);
}

/* Same seed, same model; saved and loaded, the same answers (fp16). */
static void test_roundtrip(void **state)
{
	struct txt_set s1 = {0}, s2 = {0};
	struct txt_model *m1 = train_tiny(&s1), *m2 = train_tiny(&s2), *m3;
	char path[] = "/tmp/test_text_XXXXXX";
	char err[MS_ERRLEN];
	struct txt_result a, b;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	txt_predict(m1, "so sad today", 12, &a);
	txt_predict(m2, "so sad today", 12, &b);
	assert_memory_equal(a.probs, b.probs, sizeof(a.probs));
	assert_int_equal(txt_model_save(m1, path, err, sizeof(err)), MS_OK);
	assert_int_equal(txt_model_load(path, &m3, err, sizeof(err)), MS_OK);
	assert_int_equal(txt_model_config(m3)->buckets, 4096);
	txt_predict(m3, "so sad today", 12, &b);
	for (int c = 0; c < TXT_CLASSES; c++)
		assert_float_equal(a.probs[c], b.probs[c], 2e-3);
	unlink(path);
	txt_model_free(m3);
	txt_model_free(m1);
	txt_model_free(m2);
	txt_set_release(&s1);
	txt_set_release(&s2);
}

static uint8_t *model_bytes(uint32_t buckets, size_t *len)
{
	size_t n = 60 + 14u * buckets;
	uint8_t *b = calloc(1, n);

	memcpy(b, "MSTX", 4);
	b[4] = 1;
	b[8] = 7;
	memcpy(b + 12, &buckets, 4);
	b[16] = 3;
	b[20] = 5;
	b[24] = 1;
	*len = n;
	return b;
}

static void test_hostile_files(void **state)
{
	struct txt_model *m = NULL;
	char err[MS_ERRLEN];
	size_t len;
	uint8_t *b = model_bytes(16, &len);
	uint32_t huge = 0xFFFFFFFFu;

	(void)state;
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)), MS_OK);
	txt_model_free(m);
	assert_int_equal(txt_model_parse(b, len - 1, &m, err, sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(txt_model_parse(b, 10, &m, err, sizeof(err)),
			 MS_EFORMAT);
	b[0] = 'X';
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EFORMAT);
	b[0] = 'M';
	b[4] = 2;
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EUNSUPPORTED);
	b[4] = 1;
	b[8] = 6;
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EFORMAT);
	b[8] = 7;
	memcpy(b + 12, &huge, 4); /* buckets past the cap */
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EFORMAT);
	b[12] = 16;
	b[13] = b[14] = b[15] = 0;
	b[20] = 9; /* n-grams past the cap */
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EFORMAT);
	b[20] = 5;
	b[60] = 0x00;
	b[61] = 0x7C; /* half infinity */
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "non-finite"));
	b[61] = 0;
	memcpy(b + 32, &(float){NAN}, 4);
	assert_int_equal(txt_model_parse(b, len, &m, err, sizeof(err)),
			 MS_EFORMAT);
	assert_true(txt_model_load("/nonexistent/x.mstx", &m, err,
				   sizeof(err)) < 0);
	assert_true(strlen(err) > 0);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_utf8_kept_and_folded),
		cmocka_unit_test(test_invalid_bytes_dropped),
		cmocka_unit_test(test_controls_and_nul),
		cmocka_unit_test(test_emoji_tokens),
		cmocka_unit_test(test_input_cap),
		cmocka_unit_test(test_negation_scope),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_train_and_negation),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_hostile_files),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
