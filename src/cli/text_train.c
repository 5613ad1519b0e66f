/* text_train.c - `moodsync train-text` (trains the text mood model on the
 * GoEmotions train split and scores it on dev) and `moodsync eval-text`
 * (scores a model on a split: Ekman-level accuracy, per-class and macro
 * F1, confusion matrix; text or JSON). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/text.h"

/* A split's paths: $MOODSYNC_DATA/text/goemotions/{NAME.tsv, ...}, or a
 * TSV path with the label files of the data folder. */
struct split_paths {
	char tsv[4096], emotions[4096], mapping[4096];
};

static int split_paths(const char *split, struct split_paths *p)
{
	const char *d = cli_data_dir();
	int a, b, c;

	if (strchr(split, '/') || strstr(split, ".tsv"))
		a = snprintf(p->tsv, sizeof(p->tsv), "%s", split);
	else
		a = snprintf(p->tsv, sizeof(p->tsv),
			     "%s/text/goemotions/%s.tsv", d, split);
	b = snprintf(p->emotions, sizeof(p->emotions),
		     "%s/text/goemotions/emotions.txt", d);
	c = snprintf(p->mapping, sizeof(p->mapping),
		     "%s/text/goemotions/ekman_mapping.json", d);
	return a < (int)sizeof(p->tsv) && b < (int)sizeof(p->emotions) &&
			       c < (int)sizeof(p->mapping)
		       ? 0
		       : -1;
}

static int load_split(const char *cmd, const char *split,
		      const struct txt_config *c, struct txt_set *set)
{
	struct split_paths p;
	char err[MS_ERRLEN];

	if (split_paths(split, &p)) {
		fprintf(stderr, "moodsync %s: data path too long\n", cmd);
		return -1;
	}
	if (txt_set_load_goemotions(p.tsv, p.emotions, p.mapping, c, set, err,
				    sizeof(err))) {
		fprintf(stderr, "moodsync %s: %s\n", cmd, err);
		return -1;
	}
	return 0;
}

static void print_score(const char *name, const struct txt_score *s)
{
	printf("%s: %d texts, accuracy %.2f%%, macro-F1 %.4f\n\n", name, s->n,
	       100 * s->accuracy, s->macro_f1);
	printf("%-10s %9s %7s %7s %8s\n", "class", "precision", "recall", "f1",
	       "support");
	for (int c = 0; c < TXT_CLASSES; c++)
		printf("%-10s %8.2f%% %6.2f%% %7.4f %8d\n", txt_class_names[c],
		       100 * s->precision[c], 100 * s->recall[c], s->f1[c],
		       s->support[c]);
	printf("\nconfusion (rows: gold, columns: predicted)\n%-10s", "");
	for (int c = 0; c < TXT_CLASSES; c++)
		printf(" %8s", txt_class_names[c]);
	printf("\n");
	for (int r = 0; r < TXT_CLASSES; r++) {
		printf("%-10s", txt_class_names[r]);
		for (int c = 0; c < TXT_CLASSES; c++)
			printf(" %8d", s->conf[r][c]);
		printf("\n");
	}
}

static int print_score_json(const char *name, const struct txt_score *s)
{
	struct ms_buf b;
	struct ms_json j;
	int rc;

	ms_buf_init(&b, 1 << 16);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "split", name);
	ms_json_int(&j, "texts", s->n);
	ms_json_num(&j, "accuracy", s->accuracy, 6);
	ms_json_num(&j, "macro_f1", s->macro_f1, 6);
	ms_json_arr_open(&j, "classes");
	for (int c = 0; c < TXT_CLASSES; c++) {
		ms_json_obj_open(&j, NULL);
		ms_json_str(&j, "name", txt_class_names[c]);
		ms_json_num(&j, "precision", s->precision[c], 6);
		ms_json_num(&j, "recall", s->recall[c], 6);
		ms_json_num(&j, "f1", s->f1[c], 6);
		ms_json_int(&j, "support", s->support[c]);
		ms_json_obj_close(&j);
	}
	ms_json_arr_close(&j);
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		printf("%s\n", b.data);
	ms_buf_release(&b);
	return rc ? 1 : 0;
}

int cmd_eval_text(int argc, char **argv)
{
	const char *split = "dev", *model = cli_default_text_model();
	struct txt_model *m = NULL;
	struct txt_set set = {0};
	struct txt_score s;
	char err[MS_ERRLEN];
	int json = 0, rc = 1, parsed;
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--split", "NAME", &split,
			    "dev, train, or a TSV file in the GoEmotions "
			    "format"),
		CLI_OPT_STR("--model", "F", &model,
			    "text model (default $MOODSYNC_TEXT_MODEL "
			    "or " MS_DEFAULT_TEXT_MODEL ")"),
		CLI_OPT_FLAG("--json", &json, "print JSON instead of text"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"eval-text",
		"[options]",
		"Scores the text mood model on a GoEmotions split "
		"($MOODSYNC_DATA/text/goemotions): a text with labels in "
		"several classes counts as right when the top class is any of "
		"them (per-class F1 then counts it as that class; a wrong "
		"answer counts against the first listed label's class).",
		opts,
		NULL,
		0,
		0};

	parsed = cli_parse(&cmd, argc, argv);
	if (parsed < 0)
		return cli_parse_status(parsed);
	if (txt_model_load(model, &m, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval-text: %s\n", err);
		return 1;
	}
	if (load_split("eval-text", split, txt_model_config(m), &set))
		goto out;
	txt_evaluate(m, &set, &s);
	rc = json ? print_score_json(split, &s) : (print_score(split, &s), 0);
out:
	txt_set_release(&set);
	txt_model_free(m);
	return rc;
}

/* ---- train-text ---- */

static void on_epoch(int epoch, double loss, void *ctx)
{
	(void)ctx;
	printf("epoch %d: loss %.4f\n", epoch, loss);
	fflush(stdout);
}

/* "A-B" into the n-gram range of `c`; -1 when malformed or out of range. */
static int parse_ngrams(const char *v, struct txt_config *c)
{
	const char *dash = strchr(v, '-');
	int64_t lo;
	int hi;

	if (!dash ||
	    ms_parse_i64_n(v, (size_t)(dash - v), 0, TXT_MAX_NGRAM, &lo) ||
	    ms_parse_int(dash + 1, 0, TXT_MAX_NGRAM, &hi) || hi < lo ||
	    (lo == 0 && hi != 0))
		return -1;
	c->ngram_min = (uint32_t)lo;
	c->ngram_max = (uint32_t)hi;
	return 0;
}

static int train_run(const struct txt_config *c,
		     const struct txt_train_params *p, const char **paths)
{
	struct txt_set train = {0}, dev = {0};
	struct txt_model *m = txt_model_new(c);
	struct txt_score s;
	char err[MS_ERRLEN];
	double t0 = ms_now_ms(), t1;
	int rc = 1;

	if (!m) {
		fprintf(stderr, "moodsync train-text: out of memory\n");
		return 1;
	}
	if (load_split("train-text", paths[1], c, &train))
		goto out;
	printf("%s: %zu texts, features ready in %.1f s\n", paths[1], train.n,
	       (ms_now_ms() - t0) / 1000);
	if (txt_train(m, &train, p, on_epoch, NULL, err, sizeof(err))) {
		fprintf(stderr, "moodsync train-text: %s\n", err);
		goto out;
	}
	t1 = ms_now_ms();
	printf("trained in %.1f s (features + SGD)\n", (t1 - t0) / 1000);
	if (txt_model_save(m, paths[0], err, sizeof(err))) {
		fprintf(stderr, "moodsync train-text: %s\n", err);
		goto out;
	}
	printf("wrote %s\n", paths[0]);
	rc = 0;
	if (strcmp(paths[2], "none") != 0) {
		/* Score the saved weights (rounded to fp16), as shipped. */
		txt_model_free(m);
		m = NULL;
		if (txt_model_load(paths[0], &m, err, sizeof(err)) ||
		    load_split("train-text", paths[2], c, &dev)) {
			rc = 1;
			goto out;
		}
		txt_evaluate(m, &dev, &s);
		print_score(paths[2], &s);
	}
out:
	txt_set_release(&train);
	txt_set_release(&dev);
	txt_model_free(m);
	return rc;
}

int cmd_train_text(int argc, char **argv)
{
	const char *paths[3] = {MS_DEFAULT_TEXT_MODEL, "train", "dev"};
	const char *ngrams = "3-5";
	struct txt_train_params p;
	struct txt_config c;
	int buckets, neg_window, seed, no_bigrams = 0, parsed;

	txt_config_default(&c);
	txt_train_params_default(&p);
	buckets = (int)c.buckets;
	neg_window = (int)c.neg_window;
	seed = (int)p.seed;
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--out", "F", &paths[0], "model file to write"),
		CLI_OPT_STR("--train", "SPLIT", &paths[1], "training split"),
		CLI_OPT_STR("--dev", "SPLIT", &paths[2],
			    "split scored after training, none: skip"),
		CLI_OPT_INT("--epochs", "N", &p.epochs, 1, 1000, "passes"),
		CLI_OPT_NUM("--lr", "X", &p.lr, 1e-6, 100,
			    "initial learning rate (falls linearly to 0)"),
		CLI_OPT_NUM("--class-power", "X", &p.class_power, 0, 2,
			    "class weight = (prior / largest prior)^-X"),
		CLI_OPT_NUM("--l2", "X", &p.l2, 0, 1, "weight decay per step"),
		CLI_OPT_INT("--buckets", "N", &buckets, 1, TXT_MAX_BUCKETS,
			    "hash rows"),
		CLI_OPT_STR("--ngrams", "A-B", &ngrams,
			    "character n-gram lengths, 0-0: none"),
		CLI_OPT_FLAG("--no-bigrams", &no_bigrams,
			     "no word-pair features"),
		CLI_OPT_INT("--neg-window", "N", &neg_window, 0, 64,
			    "negated words after a negator, 0: to the "
			    "punctuation"),
		CLI_OPT_INT("--seed", "N", &seed, 0, 2147483647,
			    "shuffling seed"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"train-text",
		"[options]",
		"Trains the text mood model on GoEmotions train "
		"($MOODSYNC_DATA/text/goemotions) and scores it on dev. The "
		"defaults rebuild the shipped " MS_DEFAULT_TEXT_MODEL ".",
		opts,
		NULL,
		0,
		0};

	parsed = cli_parse(&cmd, argc, argv);
	if (parsed < 0)
		return cli_parse_status(parsed);
	if (parse_ngrams(ngrams, &c)) {
		fprintf(stderr,
			"moodsync train-text: --ngrams takes A-B with "
			"0 <= A <= B <= %d (0-0: none)\n",
			TXT_MAX_NGRAM);
		return 2;
	}
	c.buckets = (uint32_t)buckets;
	c.neg_window = (uint32_t)neg_window;
	c.bigrams = !no_bigrams;
	p.seed = (uint64_t)seed;
	return train_run(&c, &p, paths);
}
