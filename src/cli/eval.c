/* eval.c - `moodsync eval`: scores an emotion model on a FER-2013 split
 * (label byte + 48x48 pixels per record): overall accuracy, per-class
 * precision/recall/F1 and the 7x7 confusion matrix, as text or JSON, and
 * the matrix as an SVG picture. Optional test-time augmentation (flip or
 * ten crops) and class-prior decision adjustment (--prior-tau).
 * When the split's FER+ votes are at hand (FILE.ferplus.txt beside it),
 * the same figures on the FER+ majority labels too; --calib reads every
 * face relative to the split's mean output (per-person calibration). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/nn.h"

struct class_score {
	double precision, recall, f1;
	int support;
};

static void score(int conf[NN_CLASSES][NN_CLASSES],
		  struct class_score out[NN_CLASSES], double *acc, int *total)
{
	int hits = 0, n = 0;

	for (int c = 0; c < NN_CLASSES; c++) {
		int tp = conf[c][c], row = 0, col = 0;

		for (int k = 0; k < NN_CLASSES; k++) {
			row += conf[c][k];
			col += conf[k][c];
		}
		out[c].support = row;
		out[c].precision = col ? (double)tp / col : 0;
		out[c].recall = row ? (double)tp / row : 0;
		out[c].f1 = out[c].precision + out[c].recall > 0
				    ? 2 * out[c].precision * out[c].recall /
					      (out[c].precision + out[c].recall)
				    : 0;
		hits += tp;
		n += row;
	}
	*acc = n ? (double)hits / n : 0;
	*total = n;
}

/* One line per member of an ensemble: weight, parameters, cost. */
static void print_members(const struct nn_model *m)
{
	struct nn_model_info mi;
	float w;

	for (int i = 0; i < nn_model_members(m) && nn_model_members(m) > 1;
	     i++) {
		nn_model_info(nn_model_member(m, i, &w), &mi);
		printf("  member %d: weight %.3f, %zu parameters, %.1f M "
		       "multiply-adds, window %dx%d\n",
		       i + 1, w, mi.params, mi.macs / 1e6, mi.crop, mi.crop);
	}
}

static void print_text(const char *model, const char *fer,
		       const struct nn_model *m, int tta,
		       int conf[NN_CLASSES][NN_CLASSES])
{
	struct nn_model_info inf, *info = &inf;
	struct class_score s[NN_CLASSES];
	double acc, mp = 0, mr = 0, mf = 0;
	int n;

	nn_model_info(m, info);
	score(conf, s, &acc, &n);
	printf("model %s: %d net%s, %zu parameters, %.1f M multiply-adds per "
	       "face and pass, input %dx%d (window %dx%d)\n",
	       model, info->members, info->members > 1 ? "s" : "", info->params,
	       info->macs / 1e6, info->side, info->side, info->crop,
	       info->crop);
	print_members(m);
	printf("%s: %d faces, accuracy %.2f%% (TTA %s)\n\n", fer, n, 100 * acc,
	       nn_tta_names[tta]);
	printf("%-10s %9s %7s %7s %8s\n", "class", "precision", "recall", "f1",
	       "support");
	for (int c = 0; c < NN_CLASSES; c++) {
		printf("%-10s %8.2f%% %6.2f%% %6.2f%% %8d\n",
		       nn_emotion_names[c], 100 * s[c].precision,
		       100 * s[c].recall, 100 * s[c].f1, s[c].support);
		mp += s[c].precision / NN_CLASSES;
		mr += s[c].recall / NN_CLASSES;
		mf += s[c].f1 / NN_CLASSES;
	}
	printf("%-10s %8.2f%% %6.2f%% %6.2f%% %8d\n\n", "macro avg", 100 * mp,
	       100 * mr, 100 * mf, n);
	printf("confusion matrix (rows: true class, columns: predicted)\n%-10s",
	       "");
	for (int c = 0; c < NN_CLASSES; c++)
		printf(" %8s", nn_emotion_names[c]);
	printf("\n");
	for (int r = 0; r < NN_CLASSES; r++) {
		printf("%-10s", nn_emotion_names[r]);
		for (int c = 0; c < NN_CLASSES; c++)
			printf(" %8d", conf[r][c]);
		printf("\n");
	}
}

/* FER+ majority figures: accuracy over records with a FER+ target (ties
 * are misses), per-class figures over records with a unique majority. */
static void print_plus_text(const struct nn_fer_eval *r)
{
	struct class_score s[NN_CLASSES];
	double acc;
	int n;

	score((int(*)[NN_CLASSES])r->plus_confusion, s, &acc, &n);
	printf("\nFER+ majority labels: %zu faces with a FER+ target "
	       "(%d with a unique majority), accuracy %.2f%% (ties count as "
	       "misses; %.2f%% of the unique majorities)\n",
	       r->plus_n, n,
	       r->plus_n ? 100.0 * (double)r->plus_hits / (double)r->plus_n
			 : 0.0,
	       n ? 100.0 * (double)r->plus_hits / n : 0.0);
	printf("both label sets: %zu faces where the FER label is the FER+ "
	       "majority, accuracy there %.2f%%; %zu faces predicted as "
	       "neither label\n",
	       r->agree_n,
	       r->agree_n ? 100.0 * (double)r->agree_hits / (double)r->agree_n
			  : 0.0,
	       r->neither);
	printf("%-10s %9s %7s %7s %8s\n", "class", "precision", "recall", "f1",
	       "support");
	for (int c = 0; c < NN_CLASSES; c++)
		printf("%-10s %8.2f%% %6.2f%% %6.2f%% %8d\n",
		       nn_emotion_names[c], 100 * s[c].precision,
		       100 * s[c].recall, 100 * s[c].f1, s[c].support);
	printf("confusion matrix (rows: FER+ majority, columns: predicted)\n"
	       "%-10s",
	       "");
	for (int c = 0; c < NN_CLASSES; c++)
		printf(" %8s", nn_emotion_names[c]);
	printf("\n");
	for (int row = 0; row < NN_CLASSES; row++) {
		printf("%-10s", nn_emotion_names[row]);
		for (int c = 0; c < NN_CLASSES; c++)
			printf(" %8d", r->plus_confusion[row][c]);
		printf("\n");
	}
}

/* "classes" and "confusion" of one confusion matrix into the open object. */
static void json_scores(struct ms_json *j, int conf[NN_CLASSES][NN_CLASSES])
{
	struct class_score s[NN_CLASSES];
	double acc;
	int n;

	score(conf, s, &acc, &n);
	ms_json_arr_open(j, "classes");
	for (int c = 0; c < NN_CLASSES; c++) {
		ms_json_obj_open(j, NULL);
		ms_json_str(j, "name", nn_emotion_names[c]);
		ms_json_num(j, "precision", s[c].precision, 6);
		ms_json_num(j, "recall", s[c].recall, 6);
		ms_json_num(j, "f1", s[c].f1, 6);
		ms_json_int(j, "support", s[c].support);
		ms_json_obj_close(j);
	}
	ms_json_arr_close(j);
	ms_json_arr_open(j, "confusion");
	for (int r = 0; r < NN_CLASSES; r++) {
		ms_json_arr_open(j, NULL);
		for (int c = 0; c < NN_CLASSES; c++)
			ms_json_int(j, NULL, conf[r][c]);
		ms_json_arr_close(j);
	}
	ms_json_arr_close(j);
}

static int print_json(const char *model, const char *fer,
		      const struct nn_model_info *info, int tta, double tau,
		      struct nn_fer_eval *ev)
{
	struct class_score s[NN_CLASSES];
	struct ms_json j;
	struct ms_buf b;
	double acc;
	int n, rc;

	score(ev->confusion, s, &acc, &n);
	ms_buf_init(&b, 1 << 20);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "model", model);
	ms_json_str(&j, "data", fer);
	ms_json_int(&j, "params", (long long)info->params);
	ms_json_num(&j, "macs", info->macs, 0);
	ms_json_int(&j, "faces", n);
	ms_json_bool(&j, "tta", tta != NN_TTA_NONE);
	ms_json_str(&j, "tta_mode", nn_tta_names[tta]);
	ms_json_int(&j, "members", info->members);
	ms_json_num(&j, "prior_tau", tau, 3);
	ms_json_num(&j, "accuracy", acc, 6);
	json_scores(&j, ev->confusion);
	if (ev->plus_n) {
		score(ev->plus_confusion, s, &acc, &n);
		ms_json_obj_open(&j, "ferplus");
		ms_json_int(&j, "faces", (long long)ev->plus_n);
		ms_json_int(&j, "majority_faces", n);
		ms_json_num(&j, "accuracy",
			    (double)ev->plus_hits / (double)ev->plus_n, 6);
		ms_json_num(&j, "majority_accuracy",
			    n ? (double)ev->plus_hits / n : 0, 6);
		ms_json_int(&j, "agree_faces", (long long)ev->agree_n);
		ms_json_int(&j, "agree_hits", (long long)ev->agree_hits);
		ms_json_int(&j, "neither", (long long)ev->neither);
		json_scores(&j, ev->plus_confusion);
		ms_json_obj_close(&j);
	}
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		printf("%s\n", b.data);
	ms_buf_release(&b);
	return rc ? -1 : 0;
}

/* The confusion matrix as an SVG heat map, rows normalised to recall. */
static int write_svg(const char *path, const char *what, double acc, int tta,
		     int conf[NN_CLASSES][NN_CLASSES])
{
	const int cell = 64, left = 90, top = 70;
	int size = left + cell * NN_CLASSES + 20;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"20\" font-size=\"14\">Confusion matrix, "
		"%s, accuracy %.2f%%%s%s (rows: true, columns: "
		"predicted)</text>\n",
		size + 160, size + 30, 10, what, 100 * acc,
		tta ? " with TTA " : "", tta ? nn_tta_names[tta] : "");
	for (int c = 0; c < NN_CLASSES; c++) {
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" "
			"text-anchor=\"middle\">%s</text>\n",
			left + c * cell + cell / 2, top - 8,
			nn_emotion_names[c]);
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" "
			"text-anchor=\"end\">%s</text>\n",
			left - 8, top + c * cell + cell / 2 + 4,
			nn_emotion_names[c]);
	}
	for (int r = 0; r < NN_CLASSES; r++) {
		int row = 0;

		for (int c = 0; c < NN_CLASSES; c++)
			row += conf[r][c];
		for (int c = 0; c < NN_CLASSES; c++) {
			double v = row ? (double)conf[r][c] / row : 0;
			int shade = 255 - (int)(v * 200);

			fprintf(f,
				"<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" "
				"fill=\"rgb(%d,%d,255)\" stroke=\"#888\"/>\n"
				"<text x=\"%d\" y=\"%d\" "
				"text-anchor=\"middle\" "
				"fill=\"%s\">%d</text>\n"
				"<text x=\"%d\" y=\"%d\" "
				"text-anchor=\"middle\" "
				"font-size=\"10\" fill=\"%s\">%.0f%%</text>\n",
				left + c * cell, top + r * cell, cell, cell,
				shade, shade, left + c * cell + cell / 2,
				top + r * cell + cell / 2 - 2,
				v > 0.5 ? "white" : "black", conf[r][c],
				left + c * cell + cell / 2,
				top + r * cell + cell / 2 + 14,
				v > 0.5 ? "white" : "black", 100 * v);
		}
	}
	fprintf(f, "</svg>\n");
	return fclose(f) ? -1 : 0;
}

/* Loads the split and its FER+ votes (`plus`, or FILE.ferplus.txt beside
 * a FILE.bin when that exists). */
static int load_split(const char *fer, const char *plus, struct nn_fer *set)
{
	char err[MS_ERRLEN], guess[4096];
	size_t n = strlen(fer);

	if (nn_fer_load(fer, set, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval: %s\n", err);
		return -1;
	}
	if (!plus && n > 4 && !strcmp(fer + n - 4, ".bin") &&
	    n + 16 < sizeof(guess)) {
		snprintf(guess, sizeof(guess), "%.*s.ferplus.txt", (int)(n - 4),
			 fer);
		if (access(guess, F_OK) == 0)
			plus = guess;
	}
	if (plus && nn_fer_load_ferplus(plus, set, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval: %s\n", err);
		return -1;
	}
	return 0;
}

/* Class frequencies of the split at `path` (the training split: the
 * priors of logit adjustment) into base[]. -1 after a one-line error. */
static int class_priors(const char *path, float base[NN_CLASSES])
{
	struct nn_fer set;
	char err[MS_ERRLEN];
	size_t count[NN_CLASSES] = {0}, n;

	if (nn_fer_load(path, &set, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval: --prior: %s\n", err);
		return -1;
	}
	n = set.n;
	for (size_t i = 0; i < n; i++)
		count[set.labels[i]]++;
	for (int k = 0; k < NN_CLASSES; k++)
		base[k] = n ? (float)count[k] / (float)n : 0;
	nn_fer_release(&set);
	if (!n)
		fprintf(stderr, "moodsync eval: --prior: %s is empty\n", path);
	return n ? 0 : -1;
}

/* Reads every row of probs through a calibration whose baseline is
 * `base`, with uniform target: p_k * (1/7 / base_k)^strength, that is
 * p_k / base_k^strength renormalised. */
static void adjust(const struct nn_fer *set, float *probs,
		   const float base[NN_CLASSES], float strength)
{
	struct nn_calib c;

	nn_calib_init(&c);
	memcpy(c.base, base, sizeof(c.base));
	c.weight = 1;
	for (size_t i = 0; i < set->n; i++)
		nn_calib_apply(&c, NULL, strength, probs + i * NN_CLASSES,
			       probs + i * NN_CLASSES);
}

/* Scores the split, optionally through a calibration whose baseline is the
 * mean output over the whole split (uniform target, strength `calib`), then
 * a logit adjustment by the class priors (strength `tau`, priors NULL:
 * none). */
static int evaluate(const struct nn_model *m, const struct nn_fer *set, int tta,
		    int threads, float calib, const float *priors, float tau,
		    struct nn_fer_eval *r)
{
	float *probs = ms_mallocarray(set->n, NN_CLASSES * sizeof(float));
	struct nn_calib c;
	int rc;

	if (!probs)
		return MS_ENOMEM;
	rc = nn_eval_probs(m, set, tta, threads, probs);
	if (!rc && calib > 0) {
		nn_calib_init(&c);
		for (size_t i = 0; i < set->n; i++)
			nn_calib_add(&c, probs + i * NN_CLASSES);
		for (size_t i = 0; i < set->n; i++)
			nn_calib_apply(&c, NULL, calib, probs + i * NN_CLASSES,
				       probs + i * NN_CLASSES);
	}
	if (!rc && priors && tau > 0)
		adjust(set, probs, priors, tau);
	if (!rc)
		nn_eval_score(set, probs, r);
	free(probs);
	return rc;
}

/* Text or JSON on stdout, and the SVG pictures asked for. */
static int report(const char *model, const char *fer, const struct nn_model *m,
		  int tta, double tau, int json, const char *svg,
		  const char *svg_plus, struct nn_fer_eval *r)
{
	struct nn_model_info info;
	struct class_score s[NN_CLASSES];
	double acc;
	int n;

	nn_model_info(m, &info);
	if (json ? print_json(model, fer, &info, tta, tau, r)
		 : (print_text(model, fer, m, tta, r->confusion), 0)) {
		fprintf(stderr, "moodsync eval: output too large\n");
		return -1;
	}
	if (!json && tau > 0)
		printf("\nlogit adjustment: probabilities divided by the "
		       "training split's class frequencies to the power %.2f\n",
		       tau);
	if (!json && r->plus_n)
		print_plus_text(r);
	score(r->confusion, s, &acc, &n);
	if (svg && write_svg(svg, "FER labels", acc, tta, r->confusion)) {
		fprintf(stderr, "moodsync eval: cannot write %s\n", svg);
		return -1;
	}
	if (svg_plus && !r->plus_n) {
		fprintf(stderr, "moodsync eval: --svg-plus needs FER+ votes\n");
		return -1;
	}
	acc = r->plus_n ? (double)r->plus_hits / (double)r->plus_n : 0;
	if (svg_plus && write_svg(svg_plus, "FER+ majority labels", acc, tta,
				  r->plus_confusion)) {
		fprintf(stderr, "moodsync eval: cannot write %s\n", svg_plus);
		return -1;
	}
	return 0;
}

/* *path, or when NULL the split `name` of the data folder (in buf);
 * -1 with a line on stderr when that path does not fit. */
static int default_split(const char **path, char *buf, size_t len,
			 const char *name)
{
	if (*path)
		return 0;
	if (snprintf(buf, len, "%s/fer2013/%s", cli_data_dir(), name) >=
	    (int)len) {
		fprintf(stderr, "moodsync eval: data path too long\n");
		return -1;
	}
	*path = buf;
	return 0;
}

int cmd_eval(int argc, char **argv)
{
	const char *fer = NULL, *model, *svg = NULL, *svg_plus = NULL;
	const char *plus = NULL, *prior = NULL;
	char err[MS_ERRLEN], def[4096], defprior[4096];
	int json = 0, tta = 0, threads = 2, rc = 1, explicit_model;
	double calib = 0, tau = 0;
	float priors[NN_CLASSES];
	struct nn_model *m = NULL;
	struct nn_fer set = {0};
	struct nn_fer_eval r;

	model = cli_default_model(&explicit_model);
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--fer", "FILE", &fer,
			    "split to score (default "
			    "$MOODSYNC_DATA/fer2013/publictest.bin)"),
		CLI_OPT_STR(
			"--model", "FILE", &model,
			"model (default $MOODSYNC_MODEL or " MS_DEFAULT_MODEL
			")"),
		CLI_OPT_FLAG("--tta", &tta,
			     "average with the mirrored face (as --tta-mode "
			     "flip)"),
		CLI_OPT_ENUM("--tta-mode", &tta, nn_tta_names,
			     "test-time augmentation: none, flip (2 passes), "
			     "crops (4 corner + centre windows and their "
			     "mirrors, 10 passes)"),
		CLI_OPT_FLAG("--json", &json, "print JSON instead of text"),
		CLI_OPT_STR("--svg", "FILE", &svg,
			    "write the confusion matrix as SVG"),
		CLI_OPT_STR(
			"--ferplus", "FILE", &plus,
			"FER+ votes of the split (default: FILE.ferplus.txt "
			"beside the .bin, when it exists)"),
		CLI_OPT_STR("--svg-plus", "FILE", &svg_plus,
			    "write the FER+ majority confusion matrix as SVG"),
		CLI_OPT_NUM("--calib", "S", &calib, 0, 1,
			    "read each face relative to the split's mean "
			    "output, strength S (per-person calibration with "
			    "the whole split as the baseline)"),
		CLI_OPT_NUM("--prior-tau", "T", &tau, 0, 1,
			    "logit adjustment: divide each face's "
			    "probabilities by the class priors to the power "
			    "T, renormalised (0: off)"),
		CLI_OPT_STR("--prior", "FILE", &prior,
			    "split whose label frequencies are the priors "
			    "(default $MOODSYNC_DATA/fer2013/train.bin)"),
		CLI_OPT_INT("--threads", "N", &threads, 1, 64,
			    "classification threads"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"eval",
		"[options]",
		"Scores an emotion model on a FER-2013 split (records of a "
		"label byte + 48x48 pixels), and on its FER+ majority labels "
		"when the votes are at hand.",
		opts,
		NULL,
		0,
		0};
	int parsed = cli_parse(&cmd, argc, argv);

	if (parsed < 0)
		return cli_parse_status(parsed);
	if (default_split(&fer, def, sizeof(def), "publictest.bin") ||
	    default_split(&prior, defprior, sizeof(defprior), "train.bin"))
		return 2;
	if (tau > 0 && class_priors(prior, priors))
		return 1;
	if (nn_model_load(model, &m, err, sizeof(err))) {
		fprintf(stderr, "moodsync eval: %s\n", err);
		goto out;
	}
	if (nn_model_input_size(m) != NN_FER_SIDE) {
		fprintf(stderr, "moodsync eval: %s: model input is not 48x48\n",
			model);
		goto out;
	}
	if (load_split(fer, plus, &set))
		goto out;
	nn_set_threads(1);
	if (evaluate(m, &set, tta, threads, (float)calib,
		     tau > 0 ? priors : NULL, (float)tau, &r)) {
		fprintf(stderr, "moodsync eval: out of memory\n");
		goto out;
	}
	if (report(model, fer, m, tta, tau, json, svg, svg_plus, &r))
		goto out;
	rc = 0;
out:
	nn_fer_release(&set);
	nn_model_free(m);
	return rc;
}
