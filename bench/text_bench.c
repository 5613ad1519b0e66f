/* text_bench.c - our side of bench/text_bench.sh: the text model's
 * inference time per sentence on one thread (tokenise + features +
 * softmax, the whole of txt_predict) over the texts of a GoEmotions TSV.
 *   text_bench MODEL TSV [ROUNDS]
 * Prints "key value" lines: texts, mean and best-round microseconds per
 * text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/text.h"

int main(int argc, char **argv)
{
	struct txt_model *m = NULL;
	struct txt_result r;
	char err[MS_ERRLEN];
	uint8_t *data;
	size_t len, ntext = 0, cap = 1 << 16;
	const char **text = NULL;
	size_t *tlen = NULL;
	int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
	double best = 1e30, sum = 0, sink = 0;

	if (argc < 3 || rounds < 1) {
		fprintf(stderr, "usage: text_bench MODEL TSV [ROUNDS]\n");
		return 2;
	}
	if (txt_model_load(argv[1], &m, err, sizeof(err)) ||
	    ms_file_read(argv[2], 64u << 20, &data, &len, err, sizeof(err))) {
		fprintf(stderr, "text_bench: %s\n", err);
		return 1;
	}
	text = malloc(cap * sizeof(*text));
	tlen = malloc(cap * sizeof(*tlen));
	for (size_t i = 0; i < len && ntext < cap && text && tlen;) {
		char *line = (char *)data + i,
		     *nl = memchr(line, '\n', len - i);
		char *tab =
			memchr(line, '\t', nl ? (size_t)(nl - line) : len - i);

		if (tab) {
			text[ntext] = line;
			tlen[ntext++] = (size_t)(tab - line);
		}
		i = nl ? (size_t)(nl - (char *)data) + 1 : len;
	}
	for (int k = 0; k < rounds; k++) {
		double t0 = ms_now_ms(), us;

		for (size_t i = 0; i < ntext; i++) {
			txt_predict(m, text[i], tlen[i], &r);
			sink += r.probs[0];
		}
		us = (ms_now_ms() - t0) * 1000 / (double)ntext;
		sum += us;
		best = us < best ? us : best;
	}
	printf("texts %zu\nus_per_text_mean %.2f\nus_per_text_best %.2f\n",
	       ntext, sum / rounds, best);
	fprintf(stderr, "(checksum %.3f)\n", sink);
	free(text);
	free(tlen);
	free(data);
	txt_model_free(m);
	return 0;
}
