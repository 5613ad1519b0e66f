/* train.c - `moodsync train`: trains the emotion CNN on FER-2013 splits
 * (src/nn/train.c does the work). Prints a progress bar with images/s and
 * ETA to stderr (plain lines when stderr is not a terminal), one line per
 * epoch, and writes the best model and a checkpoint every epoch. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "moodsync/nn.h"

struct progress_state {
	int tty;
	int last_decile; /* plain mode: last tenth of an epoch printed */
};

static void fmt_eta(double s, char *buf, size_t len)
{
	long t = s > 0 && s < 1e8 ? (long)s : 0;

	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, (t / 60) % 60);
	else
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

static void on_progress(void *user, const struct nn_train_progress *p)
{
	struct progress_state *ps = user;
	char eta[32];

	fmt_eta(p->eta_s, eta, sizeof(eta));
	if (p->epoch_end) {
		if (ps->tty)
			fprintf(stderr, "\r\033[K");
		fprintf(stderr,
			"epoch %d/%d loss %.4f train %.2f%% val %.2f%% "
			"FER+ %.2f%% (loss %.4f)%s lr %.5f %.1f s %.0f img/s "
			"ETA %s\n",
			p->epoch, p->epochs, p->loss, 100 * p->acc,
			100 * p->val_acc, 100 * p->val_plus_acc, p->val_loss,
			p->best ? " best" : "",
			p->lr, p->epoch_s, p->images_per_s, eta);
		ps->last_decile = -1;
		return;
	}
	if (ps->tty) {
		char bar[31];
		int fill = (int)(30.0 * (double)p->done / (double)p->total);

		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = 0;
		fprintf(stderr,
			"\r[%s] epoch %d/%d %zu/%zu %.0f img/s loss %.4f acc "
			"%.2f%% ETA %s\033[K",
			bar, p->epoch, p->epochs, p->done, p->total,
			p->images_per_s, p->loss, 100 * p->acc, eta);
	} else {
		int d = (int)(10 * p->done / p->total);

		if (d == ps->last_decile || d == 10)
			return;
		ps->last_decile = d;
		fprintf(stderr,
			"  epoch %d/%d %zu/%zu %.0f img/s loss %.4f acc %.2f%% "
			"ETA %s\n",
			p->epoch, p->epochs, p->done, p->total, p->images_per_s,
			p->loss, 100 * p->acc, eta);
	}
	fflush(stderr);
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: moodsync train --out FILE [options]\n"
	       "Trains the emotion CNN on FER-2013 (train.bin to learn, "
	       "publictest.bin to validate).\n"
	       "  --data DIR       folder with train.bin and publictest.bin "
	       "(default $MOODSYNC_DATA/fer2013)\n"
	       "  --out FILE       best-by-validation model (.msnn), required\n"
	       "  --ckpt FILE      checkpoint written every epoch "
	       "(default OUT.ckpt)\n"
	       "  --resume CKPT    continue a run from its checkpoint (its "
	       "settings;\n"
	       "                   --epochs N there changes the run's length)\n"
	       "  --arch NAME      tiny | small | base | wide (default base)\n"
	       "  --epochs N       default 30\n"
	       "  --batch N        default 64\n"
	       "  --lr F           peak learning rate (default 0.05)\n"
	       "  --wd F           weight decay (default 5e-4)\n"
	       "  --momentum F     Nesterov momentum (default 0.9)\n"
	       "  --smoothing F    label smoothing (default 0.1)\n"
	       "  --warmup F       warmup epochs (default 1)\n"
	       "  --seed N         default 1\n"
	       "  --threads N      training threads (data-parallel, default 2)\n"
	       "  --limit N        train on a random subset of N faces\n"
	       "  --stop-after N   stop after N epochs of this session "
	       "(resume later)\n"
	       "  --no-augment     no data augmentation\n"
	       "  --ferplus-share S  targets = (1-S) smoothed FER one-hot + S "
	       "FER+ votes\n"
	       "                   (default 0.5; needs train.ferplus.txt; 0 = "
	       "FER only)\n"
	       "  --erase P        random erasing with probability P "
	       "(default 0)\n"
	       "  --mixup A        mixup with Beta(A, A) (default 0 = off)\n"
	       "  --init MODEL     start from a model's weights (and its "
	       "architecture)\n");
}

static int parse_f(const char *flag, const char *s, double lo, double hi,
		   float *out)
{
	double v;

	if (ms_parse_double(s, lo, hi, &v)) {
		fprintf(stderr, "moodsync train: bad %s '%s'\n", flag, s);
		return -1;
	}
	*out = (float)v;
	return 0;
}

static int parse_i(const char *flag, const char *s, int lo, int hi, int *out)
{
	if (ms_parse_int(s, lo, hi, out)) {
		fprintf(stderr, "moodsync train: bad %s '%s'\n", flag, s);
		return -1;
	}
	return 0;
}

/* Loads DIR/NAME.bin and, when present, DIR/NAME.ferplus.txt. */
static int load_split(const char *dir, const char *name, struct nn_fer *set)
{
	char path[4096], err[MS_ERRLEN];

	if (snprintf(path, sizeof(path), "%s/%s.bin", dir, name) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "moodsync train: --data path too long\n");
		return -1;
	}
	if (nn_fer_load(path, set, err, sizeof(err))) {
		fprintf(stderr, "moodsync train: %s\n", err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.ferplus.txt", dir, name);
	if (access(path, F_OK) == 0 &&
	    nn_fer_load_ferplus(path, set, err, sizeof(err))) {
		fprintf(stderr, "moodsync train: %s\n", err);
		return -1;
	}
	return 0;
}

int cmd_train(int argc, char **argv)
{
	struct nn_train_opts o;
	struct progress_state ps = {isatty(2), -1};
	struct nn_fer train = {0}, val = {0};
	char err[MS_ERRLEN], ckpt[4096], ddir[4096];
	const char *data = NULL;
	int rc = 1, seed = 1, limit = 0;

	nn_train_opts_init(&o);
	o.ferplus_share = 0.5f;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--no-augment")) {
			o.augment = 0;
			continue;
		}
		if (!v) {
			fprintf(stderr,
				"moodsync train: %s needs a value "
				"(see --help)\n",
				a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--data"))
			data = v;
		else if (!strcmp(a, "--out"))
			o.out_path = v;
		else if (!strcmp(a, "--ckpt"))
			o.ckpt_path = v;
		else if (!strcmp(a, "--resume"))
			o.resume = v;
		else if (!strcmp(a, "--arch"))
			o.arch = v;
		else if (!strcmp(a, "--init"))
			o.init = v;
		else if (!strcmp(a, "--ferplus-share"))
			bad = parse_f(a, v, 0, 1, &o.ferplus_share);
		else if (!strcmp(a, "--erase"))
			bad = parse_f(a, v, 0, 1, &o.erase);
		else if (!strcmp(a, "--mixup"))
			bad = parse_f(a, v, 0, 10, &o.mixup);
		else if (!strcmp(a, "--epochs")) {
			bad = parse_i(a, v, 1, 10000, &o.epochs);
			o.resume_epochs = 1;
		} else if (!strcmp(a, "--batch"))
			bad = parse_i(a, v, 1, 4096, &o.batch);
		else if (!strcmp(a, "--threads"))
			bad = parse_i(a, v, 1, 256, &o.threads);
		else if (!strcmp(a, "--seed"))
			bad = parse_i(a, v, 0, 0x7fffffff, &seed);
		else if (!strcmp(a, "--stop-after"))
			bad = parse_i(a, v, 1, 10000, &o.stop_after);
		else if (!strcmp(a, "--limit"))
			bad = parse_i(a, v, 1, 1000000, &limit);
		else if (!strcmp(a, "--lr"))
			bad = parse_f(a, v, 1e-6, 9.99, &o.lr);
		else if (!strcmp(a, "--wd"))
			bad = parse_f(a, v, 0, 0.99, &o.wd);
		else if (!strcmp(a, "--momentum"))
			bad = parse_f(a, v, 0, 0.999, &o.momentum);
		else if (!strcmp(a, "--smoothing"))
			bad = parse_f(a, v, 0, 0.99, &o.smoothing);
		else if (!strcmp(a, "--warmup"))
			bad = parse_f(a, v, 0, 10000, &o.warmup);
		else {
			fprintf(stderr,
				"moodsync train: unknown option '%s' "
				"(see --help)\n",
				a);
			return 2;
		}
		if (bad)
			return 2;
	}
	if (!o.out_path) {
		fprintf(stderr, "moodsync train: --out FILE is required\n");
		return 2;
	}
	if (o.warmup > (float)o.epochs)
		o.warmup = (float)o.epochs;
	o.seed = (uint32_t)seed;
	o.limit = (size_t)limit;
	if (!o.ckpt_path) {
		snprintf(ckpt, sizeof(ckpt), "%s.ckpt", o.out_path);
		o.ckpt_path = ckpt;
	}
	if (!data) {
		snprintf(ddir, sizeof(ddir), "%s/fer2013", cli_data_dir());
		data = ddir;
	}
	if (load_split(data, "train", &train) ||
	    load_split(data, "publictest", &val))
		goto out;
	if (o.resume)
		fprintf(stderr,
			"train: %zu faces, val: %zu faces, resuming %s "
			"(its settings%s), %d threads\n",
			train.n, val.n, o.resume,
			o.resume_epochs ? ", new epoch count" : "", o.threads);
	else
		fprintf(stderr,
			"train: %zu faces, val: %zu faces, arch %s, %d epochs, "
			"batch %d, lr %g, wd %g, seed %d, %d threads, FER+ "
			"share %g, erase %g, mixup %g%s%s\n",
			train.n, val.n, o.init ? "(from model)" : o.arch,
			o.epochs, o.batch, (double)o.lr, (double)o.wd, seed,
			o.threads, (double)o.ferplus_share, (double)o.erase,
			(double)o.mixup, o.init ? ", init " : "",
			o.init ? o.init : "");
	o.progress = on_progress;
	o.user = &ps;
	if (nn_train_run(&o, &train, &val, err, sizeof(err))) {
		fprintf(stderr, "moodsync train: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	nn_fer_release(&train);
	nn_fer_release(&val);
	return rc;
}
