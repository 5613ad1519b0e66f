/* text.c - `moodsync text`: the mood of a sentence from the text model,
 * as seven probabilities (text) or one JSON object (--json), for the
 * arguments or for each line of standard input ("-"). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/music.h"
#include "moodsync/text.h"

/* Bytes of a line kept: a little past what the model reads, so that a
 * longer line is still reported as truncated. */
#define LINE_KEEP (TXT_MAX_INPUT + 8)

static int print_json(const struct txt_result *r, long line)
{
	struct music_va va = music_affect_point(r->probs);
	enum music_feeling fe = music_feeling_of(r->probs, va);
	struct ms_buf b;
	struct ms_json j;
	int rc;

	ms_buf_init(&b, 4096);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	if (r->tokens == 0) {
		ms_json_str(&j, "error", "no words to read in the text");
		ms_json_str(&j, "code", "empty_text");
		if (line > 0)
			ms_json_int(&j, "line", line);
	} else {
		ms_json_obj_open(&j, "probs");
		for (int c = 0; c < TXT_CLASSES; c++)
			ms_json_num(&j, txt_class_names[c], r->probs[c], 4);
		ms_json_obj_close(&j);
		ms_json_str(&j, "mood", txt_class_names[r->top]);
		ms_json_str(&j, "feeling", music_feeling_names[fe]);
		ms_json_num(&j, "valence", va.valence, 3);
		ms_json_num(&j, "arousal", va.arousal, 3);
		ms_json_int(&j, "tokens", r->tokens);
		ms_json_bool(&j, "truncated", r->truncated);
	}
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		printf("%s\n", b.data);
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
	int json = 0, first, rc = 1;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("--json", &json, "one JSON object per text"),
		CLI_OPT_STR("--model", "F", &model,
			    "text model (default $MOODSYNC_TEXT_MODEL "
			    "or " MS_DEFAULT_TEXT_MODEL ")"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"text",
		"[options] TEXT... | -",
		"Reads the mood of a text: the seven probabilities (angry "
		"disgust fear happy sad surprise neutral), the valence/arousal "
		"point and the named feeling. With '-', reads one text per "
		"line from standard input and answers each line in order (a "
		"line with no words gets an error object in --json mode). Only "
		"the first 4096 bytes of a text are read; a text that starts "
		"with '-' follows '--'.",
		opts,
		NULL,
		1,
		-1};

	first = cli_parse(&cmd, argc, argv);
	if (first < 0)
		return cli_parse_status(first);
	if (txt_model_load(model, &m, err, sizeof(err))) {
		fprintf(stderr, "moodsync text: %s\n", err);
		return 1;
	}
	if (first == argc - 1 && !strcmp(argv[first], "-")) {
		rc = run_stdin(m, json);
		goto out;
	}
	txt_predict(m, text, join_args(argc, argv, first, text, sizeof(text)),
		    &r);
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
