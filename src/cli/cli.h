/* cli.h - the subcommands of `moodsync`, one file each in src/cli/. Each
 * takes the arguments after its name (argv[0] is the command name) and
 * returns the process exit status. They print one-line errors to stderr. */
#ifndef MOODSYNC_CLI_H
#define MOODSYNC_CLI_H

#include <stddef.h>

int cmd_detect(int argc, char **argv);
int cmd_eval_faces(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_text(int argc, char **argv);
int cmd_eval_text(int argc, char **argv);
int cmd_train_text(int argc, char **argv);
int cmd_library(int argc, char **argv);
/* `moodsync library scan` (library_scan.c), a verb of cmd_library. */
int cmd_library_scan(int argc, char **argv);

/* What `moodsync --version` prints after "moodsync ". */
#define MOODSYNC_VERSION "0.1.0"

/* Default paths, overridable by flags and environment. */
#define MS_DEFAULT_CASCADE                                                     \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define MS_DEFAULT_EYE_CASCADE                                                 \
	"/usr/share/opencv4/haarcascades/haarcascade_eye.xml"
/* 1: faces turned upright from their eyes before their emotion is read
 * unless --no-align (detect, serve); 0: only with --align. Off: with the
 * shipped ensemble and flip TTA it takes the server's 640x480 frame past
 * its 5 ms p50 (docs/alignment.md has the measurements). */
#define MS_DEFAULT_ALIGN 0
#if MS_DEFAULT_ALIGN
#define ALIGN_DEFAULT_NOTE " (the default)"
#define NO_ALIGN_DEFAULT_NOTE ""
#else
#define ALIGN_DEFAULT_NOTE ""
#define NO_ALIGN_DEFAULT_NOTE " (the default)"
#endif
/* Whether `cmd` (detect, serve) aligns faces, from its --align and
 * --no-align flags and MS_DEFAULT_ALIGN: 1 or 0, or -1 after printing a
 * one-line error when both flags are given. */
int cli_align_choice(const char *cmd, int on, int off);

#define MS_DEFAULT_DATA "../shared/data"
#define MS_DEFAULT_MODEL "models/emotion.msens"
#define MS_DEFAULT_TEXT_MODEL "models/text.mstx"

/* The detection options `detect` and `eval-faces` share, as rows of a
 * cli_opt table writing into struct vis_detect_params *p (the file needs
 * cli/opt.h and moodsync/vision.h). */
#define CLI_DETECT_OPTS(p)                                                     \
	CLI_OPT_NUM("--scale", "F", &(p)->scale, 1.01, 4.0, "pyramid step"),   \
		CLI_OPT_INT("--neighbors", "N", &(p)->min_neighbors, 0, 1000,  \
			    "windows needed to keep a face"),                  \
		CLI_OPT_INT("--min-size", "PX", &(p)->min_size, 0,             \
			    VIS_MAX_SIDE, "smallest face side"),               \
		CLI_OPT_INT("--max-size", "PX", &(p)->max_size, 0,             \
			    VIS_MAX_SIDE, "largest face side, 0: no limit")

/* $MOODSYNC_DATA or MS_DEFAULT_DATA. */
const char *cli_data_dir(void);

/* The shipped emotion model: $MOODSYNC_MODEL if set (*explicit = 1), else
 * models/emotion.msens under the working directory or, failing that, under
 * the repository the binary was built in (build/MODE/moodsync -> ../..).
 * The returned path lives until the next call. */
const char *cli_default_model(int *explicit_model);

/* The shipped text model, found the same way: $MOODSYNC_TEXT_MODEL, else
 * models/text.mstx under the working directory or the build's repository.
 * The returned path lives until the next call. */
const char *cli_default_text_model(void);

/* The database `serve` and `library scan` use: $MOODSYNC_DB, else
 * $XDG_DATA_HOME/moodsync/moodsync.db, else
 * ~/.local/share/moodsync/moodsync.db, written into buf (`len` bytes)
 * when built. NULL when no home is known. */
const char *cli_default_db(char *buf, size_t len);

#endif
