/* text.c - `moodsync text`: the mood of a sentence from the text model,
 * as seven probabilities (text) or one JSON object (--json), for the
 * arguments or for each line of standard input ("-"). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "moodsync/music.h"
#include "moodsync/text.h"

/* Bytes of a line kept: a little past what the model reads, so that a
 * longer line is still reported as truncated. */
#define LINE_KEEP (TXT_MAX_INPUT + 8)

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: moodsync text [--json] [--model F] TEXT...\n"
	    "       moodsync text [--json] [--model F] -\n"
	    "Reads the mood of a text: the seven probabilities (angry "
	    "disgust fear happy sad\nsurprise neutral), the valence/arousal "
	    "point and the named feeling.\n"
	    "With '-', reads one text per line from standard input and "
	    "answers each line\nin order (a line with no words gets an "
	    "error object in --json mode).\n"
	    "Only the first %d bytes of a text are read.\n"
	    "  --json     one JSON object per text\n"
	    "  --model F  text model (default $MOODSYNC_TEXT_MODEL "
	    "or " MS_DEFAULT_TEXT_MODEL ")\n",
	    TXT_MAX_INPUT);
}

static int print_json(const struct txt_result *r, long line)
{
	struct music_va va = music_affect_point(r->probs);
	enum music_feeling fe = music_feeling_of(r->probs, va);
	struct ms_buf b;
	int rc = 0;

	ms_buf_init(&b, 4096);
	if (r->tokens == 0) {
		rc |= ms_buf_puts(&b, "{\"error\":\"no words to read in the "
				      "text\",\"code\":\"empty_text\"");
		if (line > 0)
			rc |= ms_buf_printf(&b, ",\"line\":%ld", line);
		rc |= ms_buf_puts(&b, "}\n");
		goto out;
	}
	rc |= ms_buf_puts(&b, "{\"probs\":{");
	for (int c = 0; c < TXT_CLASSES; c++)
		rc |= ms_buf_printf(&b, "%s\"%s\":%.4f", c ? "," : "",
				    txt_class_names[c], r->probs[c]);
	rc |= ms_buf_printf(&b,
			    "},\"mood\":\"%s\",\"feeling\":\"%s\","
			    "\"valence\":%.3f,\"arousal\":%.3f,\"tokens\":%d,"
			    "\"truncated\":%s}\n",
			    txt_class_names[r->top], music_feeling_names[fe],
			    va.valence, va.arousal, r->tokens,
			    r->truncated ? "true" : "false");
out:
	if (!rc)
		fputs(b.data, stdout);
	ms_buf_release(&b);
	return rc;
}

static void print_text(const struct txt_result *r)
{
	struct music_va va = music_affect_point(r->probs);
	enum music_feeling fe = music_feeling_of(r->probs, va);

	for (int c = 0; c < TXT_CLASSES; c++)
		printf("%-9s %.4f\n", txt_class_names[c], r->probs[c]);
	printf("mood %s, feeling %s (valence %+.2f, arousal %+.2f)%s\n",
	       txt_class_names[r->top], music_feeling_names[fe], va.valence,
	       va.arousal, r->truncated ? ", text truncated" : "");
}

/* Reads one line (without its '\n') into buf, keeping at most `cap`
 * bytes and skipping the rest. Returns 0 at the end of input. */
static int read_line(FILE *in, char *buf, size_t cap, size_t *len)
{
	int c, any = 0;

	*len = 0;
	while ((c = getc(in)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (*len < cap)
			buf[(*len)++] = (char)c;
	}
	if (*len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	return any;
}

static int run_stdin(const struct txt_model *m, int json)
{
	static char line[LINE_KEEP];
	struct txt_result r;
	size_t len;
	long n = 0;

	while (read_line(stdin, line, sizeof(line), &len)) {
		n++;
		txt_predict(m, line, len, &r);
		if (json) {
			if (print_json(&r, n))
				return 1;
		} else if (r.tokens == 0) {
			printf("line %ld: no words to read\n", n);
		} else {
			print_text(&r);
		}
		fflush(stdout);
	}
	return 0;
}

/* The arguments joined by spaces, cut to what the model reads. */
static size_t join_args(int argc, char **argv, int from, char *out, size_t cap)
{
	size_t len = 0;

	for (int i = from; i < argc && len < cap; i++) {
		size_t n = strlen(argv[i]);

		if (i > from)
			out[len++] = ' ';
		n = MS_MIN(n, cap - len);
		memcpy(out + len, argv[i], n);
		len += n;
	}
	return len;
}

int cmd_text(int argc, char **argv)
{
	static char text[LINE_KEEP];
	const char *model = cli_default_text_model();
	char err[MS_ERRLEN];
	struct txt_model *m = NULL;
	struct txt_result r;
	int json = 0, i, rc = 1;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
			model = argv[++i];
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr,
				"moodsync text: unknown option '%s' "
				"(see --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "moodsync text: no text given (pass TEXT, or "
				"- to read lines from standard input)\n");
		return 2;
	}
	if (txt_model_load(model, &m, err, sizeof(err))) {
		fprintf(stderr, "moodsync text: %s\n", err);
		return 1;
	}
	if (i == argc - 1 && !strcmp(argv[i], "-")) {
		rc = run_stdin(m, json);
		goto out;
	}
	txt_predict(m, text, join_args(argc, argv, i, text, sizeof(text)), &r);
	if (r.tokens == 0) {
		fprintf(stderr,
			"moodsync text: no words to read in the text\n");
		goto out;
	}
	rc = json ? print_json(&r, 0) != 0 : (print_text(&r), 0);
out:
	txt_model_free(m);
	return rc;
}
