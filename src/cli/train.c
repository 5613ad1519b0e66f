/* train.c - `moodsync train`: trains the emotion CNN on FER-2013 splits
 * (src/nn/train.c does the work). Prints a progress bar with images/s and
 * ETA to stderr (plain lines when stderr is not a terminal), one line per
 * epoch, and writes the best model and a checkpoint every epoch. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opt.h"
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
			p->best ? " best" : "", p->lr, p->epoch_s,
			p->images_per_s, eta);
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

/* Prints the run's settings before it starts. */
static void print_start(const struct nn_train_opts *o, size_t n_train,
			size_t n_val, int seed)
{
	if (o->resume) {
		fprintf(stderr,
			"train: %zu faces, val: %zu faces, resuming %s "
			"(its settings%s), %d threads\n",
			n_train, n_val, o->resume,
			o->resume_epochs ? ", new epoch count" : "",
			o->threads);
		return;
	}
	fprintf(stderr,
		"train: %zu faces, val: %zu faces, arch %s, %d epochs, batch "
		"%d, "
		"lr %g, wd %g, seed %d, %d threads, FER+ share %g, erase %g, "
		"mixup %g%s%s\n",
		n_train, n_val, o->init ? "(from model)" : o->arch, o->epochs,
		o->batch, (double)o->lr, (double)o->wd, seed, o->threads,
		(double)o->ferplus_share, (double)o->erase, (double)o->mixup,
		o->init ? ", init " : "", o->init ? o->init : "");
	for (int c = 0; c < NN_CLASSES; c++)
		if (o->class_weight[c] != 1.0f)
			fprintf(stderr, "  loss weight of %s: %g\n",
				nn_emotion_names[c],
				(double)o->class_weight[c]);
}

/* The options' values before they become struct nn_train_opts fields. */
struct train_args {
	double lr, wd, momentum, smoothing, warmup, share, erase, mixup;
	int seed, limit, no_augment, epochs_given;
	const char *data, *export, *class_weights;
};

static void args_apply(const struct train_args *a, struct nn_train_opts *o)
{
	o->lr = (float)a->lr;
	o->wd = (float)a->wd;
	o->momentum = (float)a->momentum;
	o->smoothing = (float)a->smoothing;
	o->warmup = (float)MS_MIN(a->warmup, (double)o->epochs);
	o->ferplus_share = (float)a->share;
	o->erase = (float)a->erase;
	o->mixup = (float)a->mixup;
	o->seed = (uint32_t)a->seed;
	o->limit = (size_t)a->limit;
	o->augment = !a->no_augment;
	o->resume_epochs = a->epochs_given;
}

/* Loads the splits and trains; 0 or 1 (the reason on stderr). */
static int run(struct nn_train_opts *o, struct train_args *a)
{
	struct progress_state ps = {isatty(2), -1};
	struct nn_fer train = {0}, val = {0};
	char err[MS_ERRLEN], ckpt[4096], ddir[4096];
	int rc = 1;

	if (!o->ckpt_path) {
		snprintf(ckpt, sizeof(ckpt), "%s.ckpt", o->out_path);
		o->ckpt_path = ckpt;
	}
	if (!a->data) {
		snprintf(ddir, sizeof(ddir), "%s/fer2013", cli_data_dir());
		a->data = ddir;
	}
	if (load_split(a->data, "train", &train) ||
	    load_split(a->data, "publictest", &val))
		goto out;
	print_start(o, train.n, val.n, a->seed);
	o->progress = on_progress;
	o->user = &ps;
	if (nn_train_run(o, &train, &val, err, sizeof(err))) {
		fprintf(stderr, "moodsync train: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	nn_fer_release(&train);
	nn_fer_release(&val);
	return rc;
}

int cmd_train(int argc, char **argv)
{
	struct nn_train_opts o;
	struct train_args a;
	char err[MS_ERRLEN];

	nn_train_opts_init(&o);
	a = (struct train_args){o.lr, o.wd, o.momentum, o.smoothing, o.warmup,
				0.5,  0,    0,		1,	     0,
				0,    0,    NULL,	NULL,	     NULL};
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--data", "DIR", &a.data,
			    "folder with train.bin, publictest.bin and their "
			    ".ferplus.txt (default $MOODSYNC_DATA/fer2013)"),
		CLI_OPT_STR("--out", "FILE", &o.out_path,
			    "best-by-validation model (.msnn), required"),
		CLI_OPT_STR(
			"--ckpt", "FILE", &o.ckpt_path,
			"checkpoint written every epoch (default OUT.ckpt)"),
		CLI_OPT_STR("--resume", "CKPT", &o.resume,
			    "continue a run from its checkpoint, with its "
			    "settings (--epochs N there changes its length)"),
		CLI_OPT_STR("--export", "CKPT", &a.export,
			    "write a checkpoint's last-epoch net to --out as "
			    "a model, train nothing"),
		CLI_OPT_STR("--init", "MODEL", &o.init,
			    "start from a model's weights and architecture"),
		CLI_OPT_STR("--arch", "NAME", &o.arch,
			    "tiny | small | base | wide | large | xl (default "
			    "base)"),
		{CLI_INT, "--epochs", "N", &o.epochs, 1, 10000, NULL,
		 "epochs of the run", &a.epochs_given},
		CLI_OPT_INT("--batch", "N", &o.batch, 1, 4096, "batch size"),
		CLI_OPT_NUM("--lr", "F", &a.lr, 1e-6, 9.99,
			    "peak learning rate"),
		CLI_OPT_NUM("--wd", "F", &a.wd, 0, 0.99, "weight decay"),
		CLI_OPT_NUM("--momentum", "F", &a.momentum, 0, 0.999,
			    "Nesterov momentum"),
		CLI_OPT_NUM("--smoothing", "F", &a.smoothing, 0, 0.99,
			    "label smoothing"),
		CLI_OPT_NUM("--warmup", "F", &a.warmup, 0, 10000,
			    "warmup, epochs"),
		CLI_OPT_INT("--seed", "N", &a.seed, 0, 0x7fffffff, "seed"),
		CLI_OPT_INT("--threads", "N", &o.threads, 1, 256,
			    "training threads (data-parallel)"),
		CLI_OPT_INT("--limit", "N", &a.limit, 0, 1000000,
			    "train on a random subset of N faces (0: all)"),
		CLI_OPT_INT(
			"--stop-after", "N", &o.stop_after, 0, 10000,
			"stop after N epochs of this session (resume later)"),
		CLI_OPT_FLAG("--no-augment", &a.no_augment,
			     "no data augmentation"),
		CLI_OPT_NUM("--ferplus-share", "S", &a.share, 0, 1,
			    "targets = (1-S) smoothed FER one-hot + S FER+ "
			    "votes (needs train.ferplus.txt; 0: FER only)"),
		CLI_OPT_NUM("--erase", "P", &a.erase, 0, 1,
			    "random erasing with probability P"),
		CLI_OPT_NUM("--mixup", "A", &a.mixup, 0, 10,
			    "mixup with Beta(A, A) (0: off)"),
		CLI_OPT_STR("--class-weights", "LIST", &a.class_weights,
			    "weigh the loss of classes, e.g. fear=2,sad=1.2 "
			    "(others 1)"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"train",
		"--out FILE [options]",
		"Trains the emotion CNN on FER-2013 (train.bin to learn, "
		"publictest.bin to validate), against FER+ vote targets when "
		"the .ferplus.txt files are there.",
		opts,
		NULL,
		0,
		0};
	int parsed = cli_parse(&cmd, argc, argv);

	if (parsed < 0)
		return cli_parse_status(parsed);
	if (!o.out_path) {
		fprintf(stderr, "moodsync train: --out FILE is required\n");
		return 2;
	}
	if (a.export) {
		if (nn_train_ckpt_export(a.export, o.out_path, err,
					 sizeof(err))) {
			fprintf(stderr, "moodsync train: %s\n", err);
			return 1;
		}
		return 0;
	}
	args_apply(&a, &o);
	if (a.class_weights &&
	    nn_class_weights_parse(a.class_weights, o.class_weight, err,
				   sizeof(err))) {
		fprintf(stderr, "moodsync train: %s\n", err);
		return 2;
	}
	return run(&o, &a);
}
