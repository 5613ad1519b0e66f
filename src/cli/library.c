/* library.c - `moodsync library VERB ...`: the music library commands.
 * `analyze` decodes and analyses audio files (src/audio) and prints one
 * line per file (JSON with --json); a bad file gets a one-line reason on
 * stderr, the others are still done, and the exit status is 1 if any
 * failed. Verbs come from one table, so a new verb is one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "moodsync/audio.h"
#include "moodsync/common.h"

static const char *const key_names[12] = {"C",	"C#", "D",  "D#", "E",	"F",
					  "F#", "G",  "G#", "A",  "A#", "B"};

static void analyze_usage(FILE *f)
{
	fprintf(f,
		"usage: moodsync library analyze [--json] [--max-seconds S] "
		"FILE...\n\n"
		"Decodes each audio file (WAV, FLAC, Ogg Vorbis/Opus, MP3), "
		"measures its loudness,\nrhythm, spectrum and key, and places "
		"it on the valence/arousal plane (-1..1).\n"
		"  --json           one JSON object per file per line: "
		"{\"path\":..,\"duration_s\":..,\n"
		"                   \"valence\":..,\"arousal\":..,\"tags\":"
		"{\"title\":..,..},\"features\":{..}}\n"
		"  --max-seconds S  audio analysed per file, 5..3600 "
		"(default 120; longer tracks\n"
		"                   are sampled in 30 s windows spread over "
		"the track)\n"
		"Exit status 1 if any file failed (each failure is one line "
		"on stderr).\n");
}

static void print_json(struct ms_buf *b, const char *path,
		       const struct aud_tags *t, const struct aud_features *f,
		       const struct aud_mood *m)
{
	size_t nf;
	const struct aud_field *fl = aud_feature_fields(&nf);

	ms_buf_puts(b, "{\"path\":");
	ms_buf_json_str(b, path);
	ms_buf_printf(b, ",\"duration_s\":%.3f,\"valence\":%.4f,"
			 "\"arousal\":%.4f,\"tags\":{\"title\":",
		      f->duration_s, m->valence, m->arousal);
	ms_buf_json_str(b, t->title);
	ms_buf_puts(b, ",\"artist\":");
	ms_buf_json_str(b, t->artist);
	ms_buf_puts(b, ",\"album\":");
	ms_buf_json_str(b, t->album);
	ms_buf_puts(b, ",\"genre\":");
	ms_buf_json_str(b, t->genre);
	ms_buf_puts(b, "},\"features\":{");
	for (size_t i = 0; i < nf; i++)
		ms_buf_printf(b, fl[i].is_int ? "%s\"%s\":%.0f" : "%s\"%s\":%.6g",
			      i ? "," : "", fl[i].name,
			      aud_field_value(f, &fl[i]));
	ms_buf_puts(b, "}}");
}

static void print_text(struct ms_buf *b, const char *path,
		       const struct aud_tags *t, const struct aud_features *f,
		       const struct aud_mood *m)
{
	ms_buf_printf(b, "%s: %.1f s, valence %+.2f, arousal %+.2f; "
			 "%.1f LUFS, %.0f BPM, %s %s",
		      path, f->duration_s, m->valence, m->arousal,
		      f->loudness_lufs, f->tempo_bpm, key_names[f->key % 12],
		      f->mode_major >= 0.5 ? "major" : "minor");
	if (t->title[0] || t->artist[0])
		ms_buf_printf(b, "; \"%s\" by %s", t->title,
			      t->artist[0] ? t->artist : "?");
}

static int cmd_analyze(int argc, char **argv)
{
	struct aud_limits lim;
	int json = 0, failed = 0, nfiles = 0, i;

	aud_limits_default(&lim);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			analyze_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc) {
			if (ms_parse_double(argv[++i], 5.0, 3600.0,
					    &lim.max_analysis_s)) {
				fprintf(stderr, "moodsync library analyze: bad "
						"--max-seconds '%s' (5..3600)\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "moodsync library analyze: unknown "
					"option '%s' (try --help)\n",
				argv[i]);
			return 2;
		}
	}
	for (; i < argc; i++) {
		struct aud_tags t;
		struct aud_features f;
		struct aud_mood m;
		struct ms_buf b;
		char err[MS_ERRLEN];
		int rc = aud_analyze_file(argv[i], &lim, &t, &f, &m, err,
					  sizeof(err));

		nfiles++;
		if (rc) {
			fprintf(stderr, "moodsync library analyze: %s: %s\n",
				argv[i], err);
			failed = 1;
			continue;
		}
		ms_buf_init(&b, 1 << 16);
		(json ? print_json : print_text)(&b, argv[i], &t, &f, &m);
		printf("%s\n", b.data ? b.data : "");
		fflush(stdout);
		ms_buf_release(&b);
	}
	if (nfiles == 0) {
		analyze_usage(stderr);
		return 2;
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
