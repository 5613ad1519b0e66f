/* fuzz_text.c - libFuzzer harness for the text tokeniser and features and
 * the text model file parser (src/text/). The first byte picks the mode:
 * even, the rest is a text, tokenised under a few negation windows and
 * read by a small model, with the tokeniser's promises checked (tokens
 * are valid, control-free UTF-8 within the caps); odd, the rest is a model
 * file, and a model that loads reads a fixed sentence. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static struct txt_tokens tok;

/* Aborts (a finding) when a token breaks the tokeniser's promises. */
static void check_tokens(size_t len)
{
	if (tok.n < 0 || tok.n > TXT_MAX_TOKENS || tok.used > len ||
	    tok.used > TXT_MAX_INPUT)
		abort();
	for (int i = 0; i < tok.n; i++) {
		const uint8_t *p = (const uint8_t *)tok.buf + tok.off[i];
		int n = tok.len[i];

		if (n < 1 || n > TXT_MAX_TOKEN_BYTES ||
		    tok.off[i] + n > (int)sizeof(tok.buf))
			abort();
		for (int k = 0; k < n; k++) {
			if (p[k] < 0x20 || p[k] == 0x7f)
				abort();
			if (p[k] >= 'A' && p[k] <= 'Z')
				abort();
		}
		if ((p[0] & 0xC0) == 0x80)
			abort(); /* starts inside a code point */
	}
}

static void read_text(const char *text, size_t len)
{
	static struct txt_model *m;
	static uint32_t feat[TXT_MAX_FEATURES];
	struct txt_result r;
	float sum = 0;

	if (!m) {
		struct txt_config c;

		txt_config_default(&c);
		c.buckets = 1024;
		m = txt_model_new(&c);
		if (!m)
			abort();
	}
	for (int w = 0; w < 3; w++) {
		txt_tokenize(text, len, w * 2, &tok);
		check_tokens(len);
		if (txt_features(txt_model_config(m), &tok, feat,
				 TXT_MAX_FEATURES) > TXT_MAX_FEATURES)
			abort();
	}
	txt_predict(m, text, len, &r);
	for (int c = 0; c < TXT_CLASSES; c++)
		sum += r.probs[c];
	if (!(sum > 0.99f && sum < 1.01f) || r.top < 0 || r.top >= TXT_CLASSES)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct txt_model *m = NULL;
	struct txt_result r;
	char err[MS_ERRLEN];

	if (len < 1)
		return 0;
	if (!(buf[0] & 1)) {
		read_text((const char *)buf + 1, len - 1);
		return 0;
	}
	if (txt_model_parse(buf + 1, len - 1, &m, err, sizeof(err)) == MS_OK) {
		txt_predict(m, "I am not happy today \xf0\x9f\x98\xa2", 25, &r);
		txt_model_free(m);
	}
	return 0;
}
