/* text_train.c - `moodsync train-text` (trains the text mood model on the
 * GoEmotions train split and scores it on dev) and `moodsync eval-text`
 * (scores a model on a split: Ekman-level accuracy, per-class and macro
 * F1, confusion matrix; text or JSON). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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
	int rc = 0;

	ms_buf_init(&b, 1 << 16);
	rc |= ms_buf_puts(&b, "{\"split\":");
	rc |= ms_buf_json_str(&b, name);
	rc |= ms_buf_printf(&b,
			    ",\"texts\":%d,\"accuracy\":%.6f,"
			    "\"macro_f1\":%.6f,\"classes\":[",
			    s->n, s->accuracy, s->macro_f1);
	for (int c = 0; c < TXT_CLASSES; c++)
		rc |= ms_buf_printf(
		    &b,
		    "%s{\"name\":\"%s\",\"precision\":%.6f,"
		    "\"recall\":%.6f,\"f1\":%.6f,\"support\":%d}",
		    c ? "," : "", txt_class_names[c], s->precision[c],
		    s->recall[c], s->f1[c], s->support[c]);
	rc |= ms_buf_puts(&b, "]}\n");
	if (!rc)
		fputs(b.data, stdout);
	ms_buf_release(&b);
	return rc ? 1 : 0;
}

static void eval_usage(FILE *f)
{
	fprintf(f, "usage: moodsync eval-text [--split dev|train|FILE.tsv] "
		   "[--model F] [--json]\n"
		   "Scores the text mood model on a GoEmotions split "
		   "($MOODSYNC_DATA/text/goemotions):\n"
		   "a text with labels in several classes counts as right when "
		   "the top class is\nany of them (per-class F1 then counts it "
		   "as that class; a wrong answer counts\nagainst the first "
		   "listed label's class).\n");
}

int cmd_eval_text(int argc, char **argv)
{
	const char *split = "dev", *model = cli_default_text_model();
	struct txt_model *m = NULL;
	struct txt_set set = {0};
	struct txt_score s;
	char err[MS_ERRLEN];
	int json = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int has_v = i + 1 < argc;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			eval_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--split") && has_v) {
			split = argv[++i];
		} else if (!strcmp(a, "--model") && has_v) {
			model = argv[++i];
		} else {
			fprintf(stderr,
				"moodsync eval-text: unknown option or "
				"missing value '%s' (see --help)\n",
				a);
			return 2;
		}
	}
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

static void train_usage(FILE *f)
{
	fprintf(f,
		"usage: moodsync train-text [--out F] [options]\n"
		"Trains the text mood model on GoEmotions train "
		"($MOODSYNC_DATA/text/goemotions)\nand scores it on dev.\n"
		"  --out F          model file (default " MS_DEFAULT_TEXT_MODEL
		")\n"
		"  --train SPLIT    training split (default train)\n"
		"  --dev SPLIT      split scored after training (default dev; "
		"'none' skips)\n"
		"  --epochs N       passes (default 5)\n"
		"  --lr X           initial learning rate (default 0.5)\n"
		"  --class-power X  class weight = (prior/max)^-X (default "
		"0.5)\n"
		"  --l2 X           weight decay per step (default 0)\n"
		"  --buckets N      hash rows (default 131072)\n"
		"  --ngrams A-B     character n-gram lengths (default 3-5; "
		"0-0 none)\n"
		"  --no-bigrams     no word-pair features\n"
		"  --neg-window N   negated words after a negator (default 0 = "
		"to punctuation)\n"
		"  --seed N         shuffling seed (default 13)\n");
}

static void on_epoch(int epoch, double loss, void *ctx)
{
	(void)ctx;
	printf("epoch %d: loss %.4f\n", epoch, loss);
	fflush(stdout);
}

/* Parses one option with a value; 1 when `a` is not one of them. */
static int train_opt(const char *a, const char *v, struct txt_config *c,
		     struct txt_train_params *p, const char **paths)
{
	int64_t n;
	int lo, hi;

	if (!strcmp(a, "--out"))
		paths[0] = v;
	else if (!strcmp(a, "--train"))
		paths[1] = v;
	else if (!strcmp(a, "--dev"))
		paths[2] = v;
	else if (!strcmp(a, "--epochs"))
		return ms_parse_int(v, 1, 1000, &p->epochs) ? -1 : 0;
	else if (!strcmp(a, "--lr"))
		return ms_parse_double(v, 1e-6, 100, &p->lr) ? -1 : 0;
	else if (!strcmp(a, "--class-power"))
		return ms_parse_double(v, 0, 2, &p->class_power) ? -1 : 0;
	else if (!strcmp(a, "--l2"))
		return ms_parse_double(v, 0, 1, &p->l2) ? -1 : 0;
	else if (!strcmp(a, "--seed")) {
		if (ms_parse_i64(v, 0, INT64_MAX, &n))
			return -1;
		p->seed = (uint64_t)n;
	} else if (!strcmp(a, "--buckets")) {
		if (ms_parse_i64(v, 1, TXT_MAX_BUCKETS, &n))
			return -1;
		c->buckets = (uint32_t)n;
	} else if (!strcmp(a, "--neg-window")) {
		if (ms_parse_i64(v, 0, 64, &n))
			return -1;
		c->neg_window = (uint32_t)n;
	} else if (!strcmp(a, "--ngrams")) {
		const char *dash = strchr(v, '-');

		if (!dash ||
		    ms_parse_i64_n(v, (size_t)(dash - v), 0, TXT_MAX_NGRAM,
				   &n) ||
		    ms_parse_int(dash + 1, 0, TXT_MAX_NGRAM, &hi))
			return -1;
		lo = (int)n;
		if (hi < lo || (lo == 0 && hi != 0))
			return -1;
		c->ngram_min = (uint32_t)lo;
		c->ngram_max = (uint32_t)hi;
	} else
		return 1;
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
	struct txt_train_params p;
	struct txt_config c;

	txt_config_default(&c);
	txt_train_params_default(&p);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			train_usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--no-bigrams")) {
			c.bigrams = 0;
			continue;
		}
		r = i + 1 < argc ? train_opt(a, argv[i + 1], &c, &p, paths) : 1;
		if (r) {
			fprintf(stderr,
				"moodsync train-text: %s '%s' (see "
				"--help)\n",
				r > 0 ? "unknown option or missing value for"
				      : "bad value for",
				a);
			return 2;
		}
		i++;
	}
	return train_run(&c, &p, paths);
}
