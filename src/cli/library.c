/* library.c - `moodsync library VERB ...`: the music library commands.
 * `analyze` decodes and analyses audio files (src/audio) and prints one
 * line per file (JSON with --json); a bad file gets a one-line reason on
 * stderr, the others are still done, and the exit status is 1 if any
 * failed. Verbs come from one table, so a new verb is one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/audio.h"
#include "moodsync/common.h"

static const char *const key_names[12] = {"C",	"C#", "D",  "D#", "E",	"F",
					  "F#", "G",  "G#", "A",  "A#", "B"};

/* One JSON object per file and line. MS_OK, or the writer's error. */
static int print_json(const char *path, const struct aud_tags *t,
		      const struct aud_features *f, const struct aud_mood *m)
{
	size_t nf;
	const struct aud_field *fl = aud_feature_fields(&nf);
	struct ms_json j;
	struct ms_buf b;
	char words[64];
	int rc;

	ms_buf_init(&b, 1 << 16);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "path", path);
	ms_json_num(&j, "duration_s", f->duration_s, 3);
	ms_json_num(&j, "valence", m->valence, 4);
	ms_json_num(&j, "arousal", m->arousal, 4);
	aud_describe(f, m, words, sizeof(words));
	ms_json_str(&j, "words", words);
	ms_json_obj_open(&j, "tags");
	ms_json_str(&j, "title", t->title);
	ms_json_str(&j, "artist", t->artist);
	ms_json_str(&j, "album", t->album);
	ms_json_str(&j, "genre", t->genre);
	ms_json_obj_close(&j);
	ms_json_obj_open(&j, "features");
	for (size_t i = 0; i < nf; i++) {
		double v = aud_field_value(f, &fl[i]);

		if (fl[i].is_int)
			ms_json_int(&j, fl[i].name, (long long)v);
		else
			ms_json_num(&j, fl[i].name, v, 6);
	}
	ms_json_obj_close(&j);
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		printf("%s\n", b.data);
	ms_buf_release(&b);
	return rc;
}

static void print_text(const char *path, const struct aud_tags *t,
		       const struct aud_features *f, const struct aud_mood *m)
{
	char words[64];

	printf("%s: %.1f s, valence %+.2f, arousal %+.2f; %.1f LUFS, %.0f BPM, "
	       "%s %s",
	       path, f->duration_s, m->valence, m->arousal, f->loudness_lufs,
	       f->tempo_bpm, key_names[f->key % 12],
	       f->mode_major >= 0.5 ? "major" : "minor");
	if (aud_describe(f, m, words, sizeof(words)))
		printf(" (%s)", words);
	if (t->title[0] || t->artist[0])
		printf("; \"%s\" by %s", t->title,
		       t->artist[0] ? t->artist : "?");
	printf("\n");
}

static int cmd_analyze(int argc, char **argv)
{
	struct aud_limits lim;
	int json = 0, failed = 0, first;

	aud_limits_default(&lim);
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG(
			"--json", &json,
			"one JSON object per file and line: {\"path\", "
			"\"duration_s\", \"valence\", \"arousal\", \"words\", "
			"\"tags\": {\"title\", \"artist\", \"album\", "
			"\"genre\"}, \"features\": {...}}"),
		CLI_OPT_NUM("--max-seconds", "S", &lim.max_analysis_s, 5, 3600,
			    "audio analysed per file; a longer track is "
			    "sampled in 30 s windows spread over it"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"library analyze",
		"[options] FILE...",
		"Decodes each audio file (WAV, FLAC, Ogg Vorbis/Opus, MP3), "
		"measures its loudness, rhythm, spectrum and key, and places "
		"it on the valence/arousal plane (-1..1); see "
		"docs/music-mood.md.",
		opts,
		"Exit status 1 if any file failed (one line on stderr each; "
		"the others are still done).",
		1,
		-1};

	first = cli_parse(&cmd, argc, argv);
	if (first < 0)
		return cli_parse_status(first);
	for (int i = first; i < argc; i++) {
		struct aud_tags t;
		struct aud_features f;
		struct aud_mood m;
		char err[MS_ERRLEN];
		int rc = aud_analyze_file(argv[i], &lim, &t, &f, &m, err,
					  sizeof(err));

		if (rc == MS_OK && json &&
		    (rc = print_json(argv[i], &t, &f, &m)))
			snprintf(err, sizeof(err), "%s", ms_strerror(rc));
		else if (rc == MS_OK && !json)
			print_text(argv[i], &t, &f, &m);
		if (rc)
			fprintf(stderr, "moodsync library analyze: %s: %s\n",
				argv[i], err);
		failed |= rc != MS_OK;
		fflush(stdout);
	}
	return failed;
}

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{"analyze", cmd_analyze, "print each audio file's features and mood"},
	{"scan", cmd_library_scan, "scan music folders into the library"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: moodsync library VERB [ARGS]\n\nverbs:\n");
	for (size_t i = 0; i < MS_ARRAY_LEN(verbs); i++)
		fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\n`moodsync library VERB --help` describes each verb.\n");
}

int cmd_library(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < MS_ARRAY_LEN(verbs); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "moodsync library: unknown verb '%s' (try --help)\n",
		argv[1]);
	return 2;
}
