/* cli.h - the subcommands of `moodsync`, one file each in src/cli/. Each
 * takes the arguments after its name (argv[0] is the command name) and
 * returns the process exit status. They print one-line errors to stderr. */
#ifndef MOODSYNC_CLI_H
#define MOODSYNC_CLI_H

int cmd_detect(int argc, char **argv);
int cmd_eval_faces(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_library(int argc, char **argv);

/* Default paths, overridable by flags and environment. */
#define MS_DEFAULT_CASCADE \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define MS_DEFAULT_DATA "../shared/data"
#define MS_DEFAULT_MODEL "models/emotion.msnn"

/* $MOODSYNC_DATA or MS_DEFAULT_DATA. */
const char *cli_data_dir(void);

/* The shipped emotion model: $MOODSYNC_MODEL if set (*explicit = 1), else
 * models/emotion.msnn under the working directory or, failing that, under
 * the repository the binary was built in (build/MODE/moodsync -> ../..).
 * The returned path lives until the next call. */
const char *cli_default_model(int *explicit_model);

#endif
